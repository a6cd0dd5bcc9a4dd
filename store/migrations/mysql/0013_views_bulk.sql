-- Saved views and bulk changes (store/views.go, store/bulk.go).
--
-- saved_views: a named filter, sort and columns of one list (the table
-- page's query string, re-read like a URL), private to its creator or
-- shared with the team; tabs are ordered by position.
--
-- bulk_jobs: one bulk change (assign, status, stage, delete) of the rows a
-- member selected, run by a worker in batches; selection holds the ids or
-- the query whose matches were selected. bulk_rows: each record the job
-- looked at, with its value before and its version after the change (for
-- undo: a row whose version moved since was changed by someone else and is
-- kept), or why it was refused.
CREATE TABLE saved_views (
  id BIGINT NOT NULL AUTO_INCREMENT,
  team_id BIGINT NOT NULL,
  user_id BIGINT NOT NULL,
  list VARCHAR(16) NOT NULL,
  name VARCHAR(60) NOT NULL,
  query TEXT NOT NULL,
  shared TINYINT NOT NULL DEFAULT 0,
  position INT NOT NULL DEFAULT 0,
  created_at DATETIME(6) NOT NULL,
  updated_at DATETIME(6) NOT NULL,
  PRIMARY KEY (id),
  KEY saved_views_team (team_id, list, position, id),
  CONSTRAINT saved_views_team_fk FOREIGN KEY (team_id) REFERENCES teams (id) ON DELETE CASCADE
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci;
-- split
CREATE TABLE bulk_jobs (
  id BIGINT NOT NULL AUTO_INCREMENT,
  team_id BIGINT NOT NULL,
  user_id BIGINT NOT NULL,
  list VARCHAR(16) NOT NULL,
  action VARCHAR(16) NOT NULL,
  value VARCHAR(100) NOT NULL DEFAULT '',
  selection MEDIUMTEXT NOT NULL,
  status VARCHAR(16) NOT NULL,
  total BIGINT NOT NULL DEFAULT 0,
  done BIGINT NOT NULL DEFAULT 0,
  changed BIGINT NOT NULL DEFAULT 0,
  refused BIGINT NOT NULL DEFAULT 0,
  kept BIGINT NOT NULL DEFAULT 0,
  error VARCHAR(500) NOT NULL DEFAULT '',
  lease_owner VARCHAR(64) NOT NULL DEFAULT '',
  lease_until DATETIME(6) NULL,
  created_at DATETIME(6) NOT NULL,
  finished_at DATETIME(6) NULL,
  undone_at DATETIME(6) NULL,
  PRIMARY KEY (id),
  KEY bulk_jobs_team (team_id, created_at, id),
  KEY bulk_jobs_status (status, lease_until),
  CONSTRAINT bulk_jobs_team_fk FOREIGN KEY (team_id) REFERENCES teams (id) ON DELETE CASCADE
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci;
-- split
CREATE TABLE bulk_rows (
  job_id BIGINT NOT NULL,
  record_id BIGINT NOT NULL,
  outcome VARCHAR(8) NOT NULL,
  before_value VARCHAR(100) NOT NULL DEFAULT '',
  version_after INT NOT NULL DEFAULT 0,
  note VARCHAR(200) NOT NULL DEFAULT '',
  PRIMARY KEY (job_id, record_id),
  CONSTRAINT bulk_rows_job_fk FOREIGN KEY (job_id) REFERENCES bulk_jobs (id) ON DELETE CASCADE
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci;
