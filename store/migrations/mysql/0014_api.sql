-- The JSON API: personal API keys (only a SHA-256 of each token is kept),
-- one rate-limit bucket per key (GCRA: the bucket's "theoretical arrival
-- time" in microseconds, so every instance shares one counter in one row),
-- and the stored answers of POSTs sent with an Idempotency-Key.
CREATE TABLE api_keys (
  id BIGINT NOT NULL AUTO_INCREMENT,
  user_id BIGINT NOT NULL,
  team_id BIGINT NOT NULL,
  name VARCHAR(100) NOT NULL,
  prefix VARCHAR(16) NOT NULL,
  token_hash CHAR(64) CHARACTER SET ascii COLLATE ascii_bin NOT NULL,
  scope VARCHAR(8) NOT NULL,
  created_at DATETIME(6) NOT NULL,
  last_used_at DATETIME(6) NULL,
  PRIMARY KEY (id),
  UNIQUE KEY api_keys_token (token_hash),
  KEY api_keys_user (user_id, id),
  CONSTRAINT api_keys_user_fk FOREIGN KEY (user_id) REFERENCES users (id) ON DELETE CASCADE,
  CONSTRAINT api_keys_team_fk FOREIGN KEY (team_id) REFERENCES teams (id) ON DELETE CASCADE
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci;
-- split
CREATE TABLE api_rate (
  key_id BIGINT NOT NULL,
  tat BIGINT NOT NULL,
  PRIMARY KEY (key_id),
  CONSTRAINT api_rate_key_fk FOREIGN KEY (key_id) REFERENCES api_keys (id) ON DELETE CASCADE
) ENGINE=InnoDB;
-- split
CREATE TABLE api_idempotency (
  user_id BIGINT NOT NULL,
  idem_key VARCHAR(255) CHARACTER SET ascii COLLATE ascii_bin NOT NULL,
  request_hash CHAR(64) CHARACTER SET ascii COLLATE ascii_bin NOT NULL,
  status INT NOT NULL DEFAULT 0,
  location VARCHAR(255) NOT NULL DEFAULT '',
  body MEDIUMTEXT NOT NULL,
  created_at DATETIME(6) NOT NULL,
  expires_at DATETIME(6) NOT NULL,
  PRIMARY KEY (user_id, idem_key),
  KEY api_idempotency_expiry (expires_at),
  CONSTRAINT api_idempotency_user_fk FOREIGN KEY (user_id) REFERENCES users (id) ON DELETE CASCADE
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci;
