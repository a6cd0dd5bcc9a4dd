-- The board's stale rule and days in stage, kept on the deal.
--
-- deals.last_touched_at is the latest moment anything was logged on the
-- deal (a stage-log row of any kind) or on its contact (an activity: a
-- note, email, task, completed task or meeting); next_due_at is the latest
-- due time of a task or start of a meeting on its contact (NULL: none),
-- stage_since is when the deal entered its current stage (its latest
-- stage-log row that a reopen did not undo). The store writes them in the
-- transaction of every stage-log row and activity (store/board_touch.go),
-- so the board reads them with the deal instead of probing the log and the
-- activities per card. A deal is stale when it is open, last_touched_at is
-- N days back and next_due_at is not ahead.
--
-- The board's two indexes gain last_touched_at and next_due_at after their
-- key, so a "stale only" column is counted, summed and paged from the
-- index alone. Existing deals are filled in from the log and activities.
ALTER TABLE deals ADD COLUMN last_touched_at DATETIME(6) NULL, ADD COLUMN next_due_at DATETIME(6) NULL, ADD COLUMN stage_since DATETIME(6) NULL,
  DROP KEY deals_board, ADD KEY deals_board (team_id, stage, close_date, amount, id, last_touched_at, next_due_at),
  DROP KEY deals_owner_board, ADD KEY deals_owner_board (team_id, owner_id, stage, close_date, amount, id, last_touched_at, next_due_at);
-- split
UPDATE deals SET
  stage_since = (SELECT MAX(l.at) FROM deal_stage_log AS l WHERE l.deal_id = deals.id AND l.kind <> 'undone'),
  last_touched_at = GREATEST(
    COALESCE((SELECT MAX(l.at) FROM deal_stage_log AS l WHERE l.deal_id = deals.id), deals.created_at),
    COALESCE((SELECT MAX(a.at) FROM activities AS a WHERE a.contact_id = deals.contact_id), deals.created_at)),
  next_due_at = (SELECT MAX(a.due_at) FROM activities AS a WHERE a.contact_id = deals.contact_id);
