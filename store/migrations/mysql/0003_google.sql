CREATE TABLE google_accounts (
  user_id BIGINT NOT NULL,
  google_email VARCHAR(254) NOT NULL,
  sealed_token BLOB NOT NULL,
  connected_at DATETIME(6) NOT NULL,
  updated_at DATETIME(6) NOT NULL,
  PRIMARY KEY (user_id),
  CONSTRAINT google_accounts_user_fk FOREIGN KEY (user_id) REFERENCES users (id) ON DELETE CASCADE
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci;
-- split

CREATE TABLE oauth_states (
  state_hash CHAR(64) CHARACTER SET ascii COLLATE ascii_bin NOT NULL,
  user_id BIGINT NOT NULL,
  verifier_sealed BLOB NOT NULL,
  return_to VARCHAR(500) NOT NULL,
  created_at DATETIME(6) NOT NULL,
  expires_at DATETIME(6) NOT NULL,
  PRIMARY KEY (state_hash),
  KEY oauth_states_user (user_id),
  KEY oauth_states_expires (expires_at),
  CONSTRAINT oauth_states_user_fk FOREIGN KEY (user_id) REFERENCES users (id) ON DELETE CASCADE
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci;
-- split

CREATE TABLE google_task_lists (
  user_id BIGINT NOT NULL,
  contact_id BIGINT NOT NULL,
  list_id VARCHAR(255) CHARACTER SET ascii COLLATE ascii_bin NOT NULL,
  created_at DATETIME(6) NOT NULL,
  PRIMARY KEY (user_id, contact_id),
  CONSTRAINT google_task_lists_user_fk FOREIGN KEY (user_id) REFERENCES users (id) ON DELETE CASCADE
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci;
