CREATE TABLE form_claims (
  user_id INTEGER NOT NULL REFERENCES users (id) ON DELETE CASCADE,
  key_hash TEXT NOT NULL,
  kind TEXT NOT NULL,
  created_at TIMESTAMP NOT NULL,
  PRIMARY KEY (user_id, key_hash)
);
-- split

CREATE INDEX form_claims_created ON form_claims (created_at);
