-- Saved views and bulk changes: see the MySQL migration.
CREATE TABLE saved_views (
  id INTEGER PRIMARY KEY AUTOINCREMENT,
  team_id INTEGER NOT NULL REFERENCES teams (id) ON DELETE CASCADE,
  user_id INTEGER NOT NULL,
  list TEXT NOT NULL,
  name TEXT NOT NULL COLLATE NOCASE,
  query TEXT NOT NULL,
  shared INTEGER NOT NULL DEFAULT 0,
  position INTEGER NOT NULL DEFAULT 0,
  created_at TIMESTAMP NOT NULL,
  updated_at TIMESTAMP NOT NULL
);
-- split
CREATE INDEX saved_views_team ON saved_views (team_id, list, position, id);
-- split
CREATE TABLE bulk_jobs (
  id INTEGER PRIMARY KEY AUTOINCREMENT,
  team_id INTEGER NOT NULL REFERENCES teams (id) ON DELETE CASCADE,
  user_id INTEGER NOT NULL,
  list TEXT NOT NULL,
  action TEXT NOT NULL,
  value TEXT NOT NULL DEFAULT '',
  selection TEXT NOT NULL,
  status TEXT NOT NULL,
  total INTEGER NOT NULL DEFAULT 0,
  done INTEGER NOT NULL DEFAULT 0,
  changed INTEGER NOT NULL DEFAULT 0,
  refused INTEGER NOT NULL DEFAULT 0,
  kept INTEGER NOT NULL DEFAULT 0,
  error TEXT NOT NULL DEFAULT '',
  lease_owner TEXT NOT NULL DEFAULT '',
  lease_until TIMESTAMP NULL,
  created_at TIMESTAMP NOT NULL,
  finished_at TIMESTAMP NULL,
  undone_at TIMESTAMP NULL
);
-- split
CREATE INDEX bulk_jobs_team ON bulk_jobs (team_id, created_at, id);
-- split
CREATE INDEX bulk_jobs_status ON bulk_jobs (status, lease_until);
-- split
CREATE TABLE bulk_rows (
  job_id INTEGER NOT NULL REFERENCES bulk_jobs (id) ON DELETE CASCADE,
  record_id INTEGER NOT NULL,
  outcome TEXT NOT NULL,
  before_value TEXT NOT NULL DEFAULT '',
  version_after INTEGER NOT NULL DEFAULT 0,
  note TEXT NOT NULL DEFAULT '',
  PRIMARY KEY (job_id, record_id)
);
