CREATE TABLE settings (
  name TEXT NOT NULL PRIMARY KEY,
  value TEXT NOT NULL
);
-- split

CREATE TABLE teams (
  id INTEGER PRIMARY KEY AUTOINCREMENT,
  name TEXT NOT NULL,
  currency TEXT NOT NULL DEFAULT 'EUR',
  time_zone TEXT NOT NULL DEFAULT 'UTC',
  created_at TIMESTAMP NOT NULL
);
-- split

CREATE TABLE users (
  id INTEGER PRIMARY KEY AUTOINCREMENT,
  email TEXT NOT NULL COLLATE NOCASE,
  name TEXT NOT NULL,
  password_hash TEXT NOT NULL,
  team_id INTEGER NULL REFERENCES teams (id),
  role TEXT NOT NULL DEFAULT '',
  created_at TIMESTAMP NOT NULL,
  updated_at TIMESTAMP NOT NULL
);
-- split

CREATE UNIQUE INDEX users_email ON users (email);
-- split
CREATE INDEX users_team ON users (team_id, role, id);
-- split

CREATE TABLE invitations (
  id INTEGER PRIMARY KEY AUTOINCREMENT,
  team_id INTEGER NOT NULL REFERENCES teams (id) ON DELETE CASCADE,
  email TEXT NOT NULL COLLATE NOCASE,
  token_hash TEXT NOT NULL,
  invited_by INTEGER NOT NULL,
  created_at TIMESTAMP NOT NULL,
  expires_at TIMESTAMP NOT NULL,
  accepted_at TIMESTAMP NULL,
  accepted_by INTEGER NULL,
  revoked_at TIMESTAMP NULL
);
-- split

CREATE UNIQUE INDEX invitations_token ON invitations (token_hash);
-- split
CREATE INDEX invitations_team ON invitations (team_id, accepted_at, revoked_at, expires_at);
-- split
CREATE INDEX invitations_email ON invitations (email);
-- split

CREATE TABLE sessions (
  token TEXT NOT NULL PRIMARY KEY,
  data BLOB NOT NULL,
  expiry TIMESTAMP NOT NULL
);
-- split

CREATE INDEX sessions_expiry ON sessions (expiry);
-- split

CREATE TABLE login_throttle (
  throttle_key TEXT NOT NULL PRIMARY KEY,
  failures INTEGER NOT NULL,
  window_start TIMESTAMP NOT NULL,
  locked_until TIMESTAMP NULL
);
