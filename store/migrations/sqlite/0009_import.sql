-- CSV import: see the MySQL migration of the same number.
CREATE TABLE imports (
  id INTEGER PRIMARY KEY AUTOINCREMENT,
  team_id INTEGER NOT NULL REFERENCES teams (id) ON DELETE CASCADE,
  user_id INTEGER NOT NULL,
  file_name TEXT NOT NULL,
  kind TEXT NOT NULL,
  size INTEGER NOT NULL DEFAULT 0,
  detected TEXT NOT NULL,
  mapping TEXT NOT NULL,
  preview TEXT NOT NULL,
  mode TEXT NOT NULL DEFAULT 'create',
  status TEXT NOT NULL,
  rows_done INTEGER NOT NULL DEFAULT 0,
  rows_total INTEGER NOT NULL DEFAULT 0,
  created INTEGER NOT NULL DEFAULT 0,
  updated INTEGER NOT NULL DEFAULT 0,
  skipped INTEGER NOT NULL DEFAULT 0,
  rejected INTEGER NOT NULL DEFAULT 0,
  error TEXT NOT NULL DEFAULT '',
  lease_owner TEXT NOT NULL DEFAULT '',
  lease_until TIMESTAMP NULL,
  created_at TIMESTAMP NOT NULL,
  started_at TIMESTAMP NULL,
  finished_at TIMESTAMP NULL,
  undone_at TIMESTAMP NULL,
  undone_by INTEGER NULL,
  undo_kept INTEGER NOT NULL DEFAULT 0
);
-- split
CREATE INDEX imports_team ON imports (team_id, created_at, id);
-- split
CREATE INDEX imports_status ON imports (status, lease_until);
-- split
CREATE TABLE import_chunks (
  import_id INTEGER NOT NULL REFERENCES imports (id) ON DELETE CASCADE,
  seq INTEGER NOT NULL,
  data BLOB NOT NULL,
  PRIMARY KEY (import_id, seq)
);
-- split
CREATE TABLE import_changes (
  import_id INTEGER NOT NULL REFERENCES imports (id) ON DELETE CASCADE,
  record_id INTEGER NOT NULL,
  team_id INTEGER NOT NULL,
  kind TEXT NOT NULL,
  action TEXT NOT NULL,
  version_after INTEGER NOT NULL,
  before_json TEXT NULL,
  kept INTEGER NOT NULL DEFAULT 0,
  PRIMARY KEY (import_id, record_id)
);
-- split
CREATE INDEX import_changes_record ON import_changes (team_id, kind, record_id);
-- split
CREATE TABLE import_rejects (
  import_id INTEGER NOT NULL REFERENCES imports (id) ON DELETE CASCADE,
  line INTEGER NOT NULL,
  reason TEXT NOT NULL,
  raw TEXT NOT NULL,
  PRIMARY KEY (import_id, line)
);
-- split
CREATE TABLE import_settings (
  team_id INTEGER NOT NULL PRIMARY KEY REFERENCES teams (id) ON DELETE CASCADE,
  members_may_import INTEGER NOT NULL DEFAULT 0
);
