-- deal_stage_totals sums each team's deals per stage: see the MySQL
-- migration of the same number.
CREATE TABLE deal_stage_totals (
  team_id INTEGER NOT NULL REFERENCES teams (id) ON DELETE CASCADE,
  stage TEXT NOT NULL,
  deals INTEGER NOT NULL,
  amount INTEGER NOT NULL,
  PRIMARY KEY (team_id, stage)
) WITHOUT ROWID;
-- split
INSERT INTO deal_stage_totals (team_id, stage, deals, amount)
SELECT team_id, stage, COUNT(*), SUM(amount) FROM deals GROUP BY team_id, stage;
