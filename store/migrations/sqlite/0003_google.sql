CREATE TABLE google_accounts (
  user_id INTEGER NOT NULL PRIMARY KEY REFERENCES users (id) ON DELETE CASCADE,
  google_email TEXT NOT NULL,
  sealed_token BLOB NOT NULL,
  connected_at TIMESTAMP NOT NULL,
  updated_at TIMESTAMP NOT NULL
);
-- split

CREATE TABLE oauth_states (
  state_hash TEXT NOT NULL PRIMARY KEY,
  user_id INTEGER NOT NULL REFERENCES users (id) ON DELETE CASCADE,
  verifier_sealed BLOB NOT NULL,
  return_to TEXT NOT NULL,
  created_at TIMESTAMP NOT NULL,
  expires_at TIMESTAMP NOT NULL
);
-- split

CREATE INDEX oauth_states_user ON oauth_states (user_id);
-- split
CREATE INDEX oauth_states_expires ON oauth_states (expires_at);
-- split

CREATE TABLE google_task_lists (
  user_id INTEGER NOT NULL REFERENCES users (id) ON DELETE CASCADE,
  contact_id INTEGER NOT NULL,
  list_id TEXT NOT NULL,
  created_at TIMESTAMP NOT NULL,
  PRIMARY KEY (user_id, contact_id)
);
