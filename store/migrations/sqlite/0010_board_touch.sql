-- The board's stale rule and days in stage, kept on the deal: see the
-- MySQL migration of the same number.
ALTER TABLE deals ADD COLUMN last_touched_at TIMESTAMP NULL;
-- split
ALTER TABLE deals ADD COLUMN next_due_at TIMESTAMP NULL;
-- split
ALTER TABLE deals ADD COLUMN stage_since TIMESTAMP NULL;
-- split
DROP INDEX deals_board;
-- split
CREATE INDEX deals_board ON deals (team_id, stage, close_date, amount, id, last_touched_at, next_due_at);
-- split
DROP INDEX deals_owner_board;
-- split
CREATE INDEX deals_owner_board ON deals (team_id, owner_id, stage, close_date, amount, id, last_touched_at, next_due_at);
-- split
UPDATE deals SET
  stage_since = (SELECT MAX(l.at) FROM deal_stage_log AS l WHERE l.deal_id = deals.id AND l.kind <> 'undone'),
  last_touched_at = MAX(
    COALESCE((SELECT MAX(l.at) FROM deal_stage_log AS l WHERE l.deal_id = deals.id), deals.created_at),
    COALESCE((SELECT MAX(a.at) FROM activities AS a WHERE a.contact_id = deals.contact_id), deals.created_at)),
  next_due_at = (SELECT MAX(a.due_at) FROM activities AS a WHERE a.contact_id = deals.contact_id);
