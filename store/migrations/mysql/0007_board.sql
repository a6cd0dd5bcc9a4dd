-- The pipeline board and the closing rules.
--
-- deals.lost_reason and lost_note say why a Closed Lost deal was lost (the
-- reason is one of the team's lost_reasons at the time). deals_board and
-- deals_owner_board serve the board's columns: one stage of one team (and
-- owner) in the board's order, close date then amount then id, and the
-- column totals (count and amount) from the index alone.
--
-- deal_stage_log.kind is 'move' for a stage the deal entered, 'reopen' for
-- a closed deal sent back to the stage it was closed from, and 'undone' for
-- the close row a reopen took back: the funnel counts only 'move' rows, so a
-- reopened deal no longer counts as won. Marking a row undone is an UPDATE
-- of the log, whose trigger (0005) moves past_version, so last month's
-- charts are drawn again. The funnel's index gains kind so that it still
-- reads the log from the index alone. prev_close_date keeps the expected close date the closing
-- replaced, for the reopen to restore. reason and note carry a loss's
-- reason into the stage history.
--
-- activities.due_at is when a task is due or a meeting starts (NULL for the
-- other types): a deal whose contact has one ahead is not stale.
--
-- board_stages holds a team's per-stage settings (win probability in
-- percent, days without activity before a deal is stale), lost_reasons its
-- list of reasons. A team without rows uses the defaults in store/board.go.
ALTER TABLE deals ADD COLUMN lost_reason VARCHAR(64) NOT NULL DEFAULT '', ADD COLUMN lost_note VARCHAR(500) NOT NULL DEFAULT '', ADD KEY deals_board (team_id, stage, close_date, amount, id), ADD KEY deals_owner_board (team_id, owner_id, stage, close_date, amount, id);
-- split
ALTER TABLE deal_stage_log ADD COLUMN kind VARCHAR(8) NOT NULL DEFAULT 'move', ADD COLUMN prev_close_date DATE NULL, ADD COLUMN reason VARCHAR(64) NOT NULL DEFAULT '', ADD COLUMN note VARCHAR(500) NOT NULL DEFAULT '', DROP KEY deal_stage_log_team, ADD KEY deal_stage_log_team (team_id, at, to_stage, deal_id, kind);
-- split
ALTER TABLE activities ADD COLUMN due_at DATETIME(6) NULL, ADD KEY activities_due (contact_id, due_at);
-- split
CREATE TABLE board_stages (
  team_id BIGINT NOT NULL,
  stage VARCHAR(32) NOT NULL,
  win_percent INT NOT NULL,
  stale_days INT NOT NULL,
  PRIMARY KEY (team_id, stage),
  CONSTRAINT board_stages_team_fk FOREIGN KEY (team_id) REFERENCES teams (id) ON DELETE CASCADE
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci;
-- split
CREATE TABLE lost_reasons (
  team_id BIGINT NOT NULL,
  position INT NOT NULL,
  reason VARCHAR(64) NOT NULL,
  PRIMARY KEY (team_id, position),
  CONSTRAINT lost_reasons_team_fk FOREIGN KEY (team_id) REFERENCES teams (id) ON DELETE CASCADE
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci;
