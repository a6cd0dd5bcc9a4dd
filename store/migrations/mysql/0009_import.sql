-- CSV import: a job per uploaded file, its bytes in 1 MB chunks (so any
-- instance can run or resume it), what each batch created or changed (for
-- undo), the rejected rows (for the report), and the team's import setting.
CREATE TABLE imports (
  id BIGINT NOT NULL AUTO_INCREMENT,
  team_id BIGINT NOT NULL,
  user_id BIGINT NOT NULL,
  file_name VARCHAR(255) NOT NULL,
  kind VARCHAR(16) NOT NULL,
  size BIGINT NOT NULL DEFAULT 0,
  detected MEDIUMTEXT NOT NULL,
  mapping MEDIUMTEXT NOT NULL,
  preview MEDIUMTEXT NOT NULL,
  mode VARCHAR(16) NOT NULL DEFAULT 'create',
  status VARCHAR(16) NOT NULL,
  rows_done BIGINT NOT NULL DEFAULT 0,
  rows_total BIGINT NOT NULL DEFAULT 0,
  created BIGINT NOT NULL DEFAULT 0,
  updated BIGINT NOT NULL DEFAULT 0,
  skipped BIGINT NOT NULL DEFAULT 0,
  rejected BIGINT NOT NULL DEFAULT 0,
  error VARCHAR(500) NOT NULL DEFAULT '',
  lease_owner VARCHAR(64) NOT NULL DEFAULT '',
  lease_until DATETIME(6) NULL,
  created_at DATETIME(6) NOT NULL,
  started_at DATETIME(6) NULL,
  finished_at DATETIME(6) NULL,
  undone_at DATETIME(6) NULL,
  undone_by BIGINT NULL,
  undo_kept BIGINT NOT NULL DEFAULT 0,
  PRIMARY KEY (id),
  KEY imports_team (team_id, created_at, id),
  KEY imports_status (status, lease_until),
  CONSTRAINT imports_team_fk FOREIGN KEY (team_id) REFERENCES teams (id) ON DELETE CASCADE
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci;
-- split
CREATE TABLE import_chunks (
  import_id BIGINT NOT NULL,
  seq INT NOT NULL,
  data MEDIUMBLOB NOT NULL,
  PRIMARY KEY (import_id, seq),
  CONSTRAINT import_chunks_import_fk FOREIGN KEY (import_id) REFERENCES imports (id) ON DELETE CASCADE
) ENGINE=InnoDB;
-- split
CREATE TABLE import_changes (
  import_id BIGINT NOT NULL,
  record_id BIGINT NOT NULL,
  team_id BIGINT NOT NULL,
  kind VARCHAR(16) NOT NULL,
  action VARCHAR(8) NOT NULL,
  version_after INT NOT NULL,
  before_json TEXT NULL,
  kept TINYINT NOT NULL DEFAULT 0,
  PRIMARY KEY (import_id, record_id),
  KEY import_changes_record (team_id, kind, record_id),
  CONSTRAINT import_changes_import_fk FOREIGN KEY (import_id) REFERENCES imports (id) ON DELETE CASCADE
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci;
-- split
CREATE TABLE import_rejects (
  import_id BIGINT NOT NULL,
  line BIGINT NOT NULL,
  reason VARCHAR(500) NOT NULL,
  raw MEDIUMTEXT NOT NULL,
  PRIMARY KEY (import_id, line),
  CONSTRAINT import_rejects_import_fk FOREIGN KEY (import_id) REFERENCES imports (id) ON DELETE CASCADE
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci;
-- split
CREATE TABLE import_settings (
  team_id BIGINT NOT NULL,
  members_may_import TINYINT NOT NULL DEFAULT 0,
  PRIMARY KEY (team_id),
  CONSTRAINT import_settings_team_fk FOREIGN KEY (team_id) REFERENCES teams (id) ON DELETE CASCADE
) ENGINE=InnoDB;
