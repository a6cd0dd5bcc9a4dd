-- The JSON API: see the MySQL migration of the same number.
CREATE TABLE api_keys (
  id INTEGER PRIMARY KEY AUTOINCREMENT,
  user_id INTEGER NOT NULL REFERENCES users (id) ON DELETE CASCADE,
  team_id INTEGER NOT NULL REFERENCES teams (id) ON DELETE CASCADE,
  name TEXT NOT NULL,
  prefix TEXT NOT NULL,
  token_hash TEXT NOT NULL,
  scope TEXT NOT NULL,
  created_at TIMESTAMP NOT NULL,
  last_used_at TIMESTAMP NULL
);
-- split
CREATE UNIQUE INDEX api_keys_token ON api_keys (token_hash);
-- split
CREATE INDEX api_keys_user ON api_keys (user_id, id);
-- split
CREATE TABLE api_rate (
  key_id INTEGER NOT NULL PRIMARY KEY REFERENCES api_keys (id) ON DELETE CASCADE,
  tat INTEGER NOT NULL
);
-- split
CREATE TABLE api_idempotency (
  user_id INTEGER NOT NULL REFERENCES users (id) ON DELETE CASCADE,
  idem_key TEXT NOT NULL,
  request_hash TEXT NOT NULL,
  status INTEGER NOT NULL DEFAULT 0,
  location TEXT NOT NULL DEFAULT '',
  body TEXT NOT NULL,
  created_at TIMESTAMP NOT NULL,
  expires_at TIMESTAMP NOT NULL,
  PRIMARY KEY (user_id, idem_key)
);
-- split
CREATE INDEX api_idempotency_expiry ON api_idempotency (expires_at);
