-- The dashboard: a change signal per team, and monthly deal totals.
--
-- team_changes holds two counters per team, moved on by the store's write
-- methods in the transaction of each write (store/changes.go): version on
-- every write that can change a chart, past_version on those that can
-- change a month already over (a deleted deal or activity, a renamed or
-- departed member, a row dated more than an hour back). Any app instance
-- tells whether a dashboard is stale with one primary-key read. The
-- counters live in their own table, not on teams, because inserting a deal
-- or an activity takes a shared lock on its teams row (the foreign key
-- check): two such inserts upgrading that lock to bump a counter there
-- would deadlock each other. A write bumps the counter before it touches
-- the totals, so the writers of one team queue there; a write that changes
-- nothing a chart shows (a deal renamed, a password changed) does not touch
-- the counter at all.
--
-- deal_month_totals sums the team's deals per calendar month of their close
-- date (a date, the same in every time zone) and stage, so that closed vs
-- goal and the forecast read a few dozen rows instead of every deal.
-- activity_day_totals counts activities per UTC day, member and type: team
-- activity adds up the whole UTC days of a month and counts only the hours
-- at its two ends (where the team's zone cuts a UTC day) from the
-- activities themselves.
--
-- Until migration 0016 triggers kept these; their statements are no-ops now
-- (engines such as TiDB have no triggers), kept so that the statement
-- numbers a part-applied 0005 recorded (store/migrate.go) still match.
-- Statements are separated by "-- split" lines (see store/migrate.go).
CREATE TABLE team_changes (
  team_id BIGINT NOT NULL,
  version BIGINT NOT NULL DEFAULT 1,
  past_version BIGINT NOT NULL DEFAULT 1,
  PRIMARY KEY (team_id),
  CONSTRAINT team_changes_team_fk FOREIGN KEY (team_id) REFERENCES teams (id) ON DELETE CASCADE
) ENGINE=InnoDB;
-- split

CREATE TABLE deal_month_totals (
  team_id BIGINT NOT NULL,
  month DATE NOT NULL,
  stage VARCHAR(32) NOT NULL,
  deals BIGINT NOT NULL,
  amount BIGINT NOT NULL,
  goal BIGINT NOT NULL,
  PRIMARY KEY (team_id, month, stage),
  CONSTRAINT deal_month_totals_team_fk FOREIGN KEY (team_id) REFERENCES teams (id) ON DELETE CASCADE
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci;
-- split

CREATE TABLE activity_day_totals (
  team_id BIGINT NOT NULL,
  day DATE NOT NULL,
  user_id BIGINT NOT NULL,
  type VARCHAR(16) NOT NULL,
  n BIGINT NOT NULL,
  PRIMARY KEY (team_id, day, user_id, type),
  CONSTRAINT activity_day_totals_team_fk FOREIGN KEY (team_id) REFERENCES teams (id) ON DELETE CASCADE
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci;
-- split

-- was CREATE TRIGGER teams_ai_dashboard (see the top of this file)
SELECT 1
-- split

-- was CREATE TRIGGER deals_ai_dashboard (see the top of this file)
SELECT 1
-- split

-- was CREATE TRIGGER deals_au_dashboard (see the top of this file)
SELECT 1
-- split

-- was CREATE TRIGGER deals_ad_dashboard (see the top of this file)
SELECT 1
-- split

-- was CREATE TRIGGER deal_stage_log_ai_dashboard (see the top of this file)
SELECT 1
-- split

-- was CREATE TRIGGER deal_stage_log_au_dashboard (see the top of this file)
SELECT 1
-- split

-- was CREATE TRIGGER deal_stage_log_ad_dashboard (see the top of this file)
SELECT 1
-- split

-- was CREATE TRIGGER activities_ai_dashboard (see the top of this file)
SELECT 1
-- split

-- was CREATE TRIGGER activities_au_dashboard (see the top of this file)
SELECT 1
-- split

-- was CREATE TRIGGER activities_ad_dashboard (see the top of this file)
SELECT 1
-- split

-- was CREATE TRIGGER contacts_bd_dashboard (see the top of this file)
SELECT 1
-- split

-- was CREATE TRIGGER users_au_dashboard (see the top of this file)
SELECT 1
-- split

-- Existing data: INSERT … SELECT reads the rows with shared locks. The
-- month is written without INTERVAL arithmetic, which engines read
-- differently (TiDB takes "INTERVAL (expr) DAY" for the INTERVAL() function).
INSERT INTO team_changes (team_id)
  SELECT id
  FROM teams
  WHERE id NOT IN (SELECT team_id FROM team_changes);
-- split

REPLACE INTO deal_month_totals (team_id, month, stage, deals, amount, goal)
  SELECT team_id, CAST(DATE_FORMAT(close_date, '%Y-%m-01') AS DATE), stage, COUNT(*), SUM(amount), SUM(goal)
  FROM deals
  WHERE close_date IS NOT NULL
  GROUP BY 1, 2, 3;
-- split

REPLACE INTO activity_day_totals (team_id, day, user_id, type, n)
  SELECT team_id, DATE(at), user_id, type, COUNT(*)
  FROM activities
  GROUP BY 1, 2, 3, 4;
