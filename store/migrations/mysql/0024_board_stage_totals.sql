-- deal_stage_totals sums each team's deals per stage, over every close date
-- and none: the board's open columns show these totals, which otherwise
-- add up ~13 rows of deal_month_totals per column and count the undated
-- deals from the board index (thousands of index entries per column at
-- 200,000 deals, the most of a board's database time). The store keeps
-- the rows in the transaction of every write that changes a deal's team,
-- stage or amount, beside deal_month_totals (store/changes.go,
-- store/board_totals.go); Reconcile checks and repairs them with the rest.
CREATE TABLE deal_stage_totals (
  team_id BIGINT NOT NULL,
  stage VARCHAR(32) NOT NULL,
  deals BIGINT NOT NULL,
  amount BIGINT NOT NULL,
  PRIMARY KEY (team_id, stage),
  CONSTRAINT deal_stage_totals_team_fk FOREIGN KEY (team_id) REFERENCES teams (id) ON DELETE CASCADE
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci;
-- split
INSERT INTO deal_stage_totals (team_id, stage, deals, amount)
SELECT team_id, stage, COUNT(*), SUM(amount) FROM deals GROUP BY team_id, stage;
