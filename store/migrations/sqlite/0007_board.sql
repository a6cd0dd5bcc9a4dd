-- The pipeline board and the closing rules: see the MySQL migration of the
-- same number for what each column is for.
ALTER TABLE deals ADD COLUMN lost_reason TEXT NOT NULL DEFAULT '';
-- split
ALTER TABLE deals ADD COLUMN lost_note TEXT NOT NULL DEFAULT '';
-- split
CREATE INDEX deals_board ON deals (team_id, stage, close_date, amount, id);
-- split
CREATE INDEX deals_owner_board ON deals (team_id, owner_id, stage, close_date, amount, id);
-- split
ALTER TABLE deal_stage_log ADD COLUMN kind TEXT NOT NULL DEFAULT 'move';
-- split
ALTER TABLE deal_stage_log ADD COLUMN prev_close_date DATE NULL;
-- split
ALTER TABLE deal_stage_log ADD COLUMN reason TEXT NOT NULL DEFAULT '';
-- split
ALTER TABLE deal_stage_log ADD COLUMN note TEXT NOT NULL DEFAULT '';
-- split
DROP INDEX deal_stage_log_team;
-- split
CREATE INDEX deal_stage_log_team ON deal_stage_log (team_id, at, to_stage, deal_id, kind);
-- split
ALTER TABLE activities ADD COLUMN due_at TIMESTAMP NULL;
-- split
CREATE INDEX activities_due ON activities (contact_id, due_at);
-- split
CREATE TABLE board_stages (
  team_id INTEGER NOT NULL REFERENCES teams (id) ON DELETE CASCADE,
  stage TEXT NOT NULL,
  win_percent INTEGER NOT NULL,
  stale_days INTEGER NOT NULL,
  PRIMARY KEY (team_id, stage)
);
-- split
CREATE TABLE lost_reasons (
  team_id INTEGER NOT NULL REFERENCES teams (id) ON DELETE CASCADE,
  position INTEGER NOT NULL,
  reason TEXT NOT NULL,
  PRIMARY KEY (team_id, position)
);
