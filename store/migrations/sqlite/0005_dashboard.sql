-- The dashboard: a change signal per team, monthly deal totals and daily
-- activity totals (see the MySQL migration of the same number for the
-- design: the store's write methods keep them, store/changes.go; until
-- migration 0016 triggers did). Statements are separated by "-- split"
-- lines (see store/migrate.go).
CREATE TABLE team_changes (
  team_id INTEGER NOT NULL PRIMARY KEY REFERENCES teams (id) ON DELETE CASCADE,
  version INTEGER NOT NULL DEFAULT 1,
  past_version INTEGER NOT NULL DEFAULT 1
);
-- split

CREATE TABLE deal_month_totals (
  team_id INTEGER NOT NULL REFERENCES teams (id) ON DELETE CASCADE,
  month TEXT NOT NULL,
  stage TEXT NOT NULL,
  deals INTEGER NOT NULL,
  amount INTEGER NOT NULL,
  goal INTEGER NOT NULL,
  PRIMARY KEY (team_id, month, stage)
) WITHOUT ROWID;
-- split

CREATE TABLE activity_day_totals (
  team_id INTEGER NOT NULL REFERENCES teams (id) ON DELETE CASCADE,
  day TEXT NOT NULL,
  user_id INTEGER NOT NULL,
  type TEXT NOT NULL,
  n INTEGER NOT NULL,
  PRIMARY KEY (team_id, day, user_id, type)
) WITHOUT ROWID;
-- split

INSERT INTO team_changes (team_id) SELECT id FROM teams;
-- split

INSERT INTO deal_month_totals (team_id, month, stage, deals, amount, goal)
  SELECT team_id, substr(close_date, 1, 7) || '-01', stage, COUNT(*), SUM(amount), SUM(goal)
  FROM deals
  WHERE close_date IS NOT NULL
  GROUP BY 1, 2, 3;
-- split

INSERT INTO activity_day_totals (team_id, day, user_id, type, n)
  SELECT team_id, substr(at, 1, 10), user_id, type, COUNT(*)
  FROM activities
  GROUP BY 1, 2, 3, 4;
