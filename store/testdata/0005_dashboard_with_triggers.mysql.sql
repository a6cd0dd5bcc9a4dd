-- The dashboard: a change signal per team, and monthly deal totals.
--
-- team_changes holds two counters per team, moved on by the triggers below:
-- version on every write that can change a chart, past_version on those
-- that can change a month already over (a deleted deal or activity, a
-- renamed or departed member, a row dated more than an hour back). Any app
-- instance tells whether a dashboard is stale with one primary-key read.
-- The counters live in their own table, not on teams, because inserting a
-- deal or an activity takes a shared lock on its teams row (the foreign key
-- check): two such inserts upgrading that lock to bump a counter there
-- would deadlock each other. Each trigger bumps the counter first, so the
-- writers of one team queue there before they touch the totals; a write that
-- changes nothing a chart shows (a deal renamed, a password changed) does not
-- touch the counter at all.
--
-- deal_month_totals sums the team's deals per calendar month of their close
-- date (a date, the same in every time zone) and stage, so that closed vs
-- goal and the forecast read a few dozen rows instead of every deal.
-- activity_day_totals counts activities per UTC day, member and type: team
-- activity adds up the whole UTC days of a month and counts only the hours
-- at its two ends (where the team's zone cuts a UTC day) from the
-- activities themselves.
--
-- Statements are separated by "-- split" lines (see store/migrate.go), so
-- a trigger body keeps its own semicolons. MySQL does not fire triggers
-- for foreign key cascades, so deleting a contact (which cascades to its
-- deals, their stage log and its activities) has a trigger of its own.
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

CREATE TRIGGER teams_ai_dashboard AFTER INSERT ON teams FOR EACH ROW
  INSERT INTO team_changes (team_id)
    VALUES (NEW.id);
-- split

CREATE TRIGGER deals_ai_dashboard AFTER INSERT ON deals FOR EACH ROW BEGIN
  UPDATE team_changes SET version = version + 1
    WHERE team_id = NEW.team_id;
  IF NEW.close_date IS NOT NULL THEN
    INSERT INTO deal_month_totals (team_id, month, stage, deals, amount, goal)
      VALUES (NEW.team_id, NEW.close_date - INTERVAL (DAYOFMONTH(NEW.close_date) - 1) DAY, NEW.stage, 1, NEW.amount, NEW.goal)
      ON DUPLICATE KEY UPDATE deals = deals + 1, amount = amount + NEW.amount, goal = goal + NEW.goal;
  END IF;
END;
-- split

CREATE TRIGGER deals_au_dashboard AFTER UPDATE ON deals FOR EACH ROW BEGIN
  IF NOT (OLD.team_id <=> NEW.team_id AND OLD.stage <=> NEW.stage AND OLD.amount <=> NEW.amount AND OLD.goal <=> NEW.goal AND OLD.close_date <=> NEW.close_date) THEN
    UPDATE team_changes SET version = version + 1
      WHERE team_id IN (OLD.team_id, NEW.team_id);
    UPDATE deal_month_totals SET deals = deals - 1, amount = amount - OLD.amount, goal = goal - OLD.goal
      WHERE team_id = OLD.team_id AND month = OLD.close_date - INTERVAL (DAYOFMONTH(OLD.close_date) - 1) DAY AND stage = OLD.stage;
    IF NEW.close_date IS NOT NULL THEN
      INSERT INTO deal_month_totals (team_id, month, stage, deals, amount, goal)
        VALUES (NEW.team_id, NEW.close_date - INTERVAL (DAYOFMONTH(NEW.close_date) - 1) DAY, NEW.stage, 1, NEW.amount, NEW.goal)
        ON DUPLICATE KEY UPDATE deals = deals + 1, amount = amount + NEW.amount, goal = goal + NEW.goal;
    END IF;
  END IF;
END;
-- split

CREATE TRIGGER deals_ad_dashboard AFTER DELETE ON deals FOR EACH ROW BEGIN
  UPDATE team_changes SET version = version + 1, past_version = past_version + 1
    WHERE team_id = OLD.team_id;
  UPDATE deal_month_totals SET deals = deals - 1, amount = amount - OLD.amount, goal = goal - OLD.goal
    WHERE team_id = OLD.team_id AND month = OLD.close_date - INTERVAL (DAYOFMONTH(OLD.close_date) - 1) DAY AND stage = OLD.stage;
END;
-- split

CREATE TRIGGER deal_stage_log_ai_dashboard AFTER INSERT ON deal_stage_log FOR EACH ROW
  UPDATE team_changes SET version = version + 1, past_version = past_version + (NEW.at < UTC_TIMESTAMP(6) - INTERVAL 1 HOUR)
    WHERE team_id = NEW.team_id;
-- split

CREATE TRIGGER deal_stage_log_au_dashboard AFTER UPDATE ON deal_stage_log FOR EACH ROW
  UPDATE team_changes SET version = version + 1, past_version = past_version + 1
    WHERE team_id IN (OLD.team_id, NEW.team_id);
-- split

CREATE TRIGGER deal_stage_log_ad_dashboard AFTER DELETE ON deal_stage_log FOR EACH ROW
  UPDATE team_changes SET version = version + 1, past_version = past_version + 1
    WHERE team_id = OLD.team_id;
-- split

CREATE TRIGGER activities_ai_dashboard AFTER INSERT ON activities FOR EACH ROW BEGIN
  UPDATE team_changes SET version = version + 1, past_version = past_version + (NEW.at < UTC_TIMESTAMP(6) - INTERVAL 1 HOUR)
    WHERE team_id = NEW.team_id;
  INSERT INTO activity_day_totals (team_id, day, user_id, type, n)
    VALUES (NEW.team_id, DATE(NEW.at), NEW.user_id, NEW.type, 1)
    ON DUPLICATE KEY UPDATE n = n + 1;
END;
-- split

CREATE TRIGGER activities_au_dashboard AFTER UPDATE ON activities FOR EACH ROW BEGIN
  UPDATE team_changes SET version = version + 1, past_version = past_version + 1
    WHERE team_id IN (OLD.team_id, NEW.team_id);
  UPDATE activity_day_totals SET n = n - 1
    WHERE team_id = OLD.team_id AND day = DATE(OLD.at) AND user_id = OLD.user_id AND type = OLD.type;
  INSERT INTO activity_day_totals (team_id, day, user_id, type, n)
    VALUES (NEW.team_id, DATE(NEW.at), NEW.user_id, NEW.type, 1)
    ON DUPLICATE KEY UPDATE n = n + 1;
END;
-- split

CREATE TRIGGER activities_ad_dashboard AFTER DELETE ON activities FOR EACH ROW BEGIN
  UPDATE team_changes SET version = version + 1, past_version = past_version + 1
    WHERE team_id = OLD.team_id;
  UPDATE activity_day_totals SET n = n - 1
    WHERE team_id = OLD.team_id AND day = DATE(OLD.at) AND user_id = OLD.user_id AND type = OLD.type;
END;
-- split

CREATE TRIGGER contacts_bd_dashboard BEFORE DELETE ON contacts FOR EACH ROW BEGIN
  UPDATE team_changes SET version = version + 1, past_version = past_version + 1
    WHERE team_id = OLD.team_id;
  UPDATE deal_month_totals AS t
    JOIN (
      SELECT team_id, close_date - INTERVAL (DAYOFMONTH(close_date) - 1) DAY AS month, stage,
        COUNT(*) AS deals, SUM(amount) AS amount, SUM(goal) AS goal
      FROM deals
      WHERE contact_id = OLD.id AND close_date IS NOT NULL
      GROUP BY team_id, month, stage
    ) AS d ON d.team_id = t.team_id AND d.month = t.month AND d.stage = t.stage
    SET t.deals = t.deals - d.deals, t.amount = t.amount - d.amount, t.goal = t.goal - d.goal;
  UPDATE activity_day_totals AS t
    JOIN (
      SELECT team_id, DATE(at) AS day, user_id, type, COUNT(*) AS n
      FROM activities
      WHERE contact_id = OLD.id
      GROUP BY team_id, day, user_id, type
    ) AS a ON a.team_id = t.team_id AND a.day = t.day AND a.user_id = t.user_id AND a.type = t.type
    SET t.n = t.n - a.n;
END;
-- split

CREATE TRIGGER users_au_dashboard AFTER UPDATE ON users FOR EACH ROW BEGIN
  IF NOT (OLD.team_id <=> NEW.team_id AND OLD.name <=> NEW.name) THEN
    UPDATE team_changes SET version = version + 1, past_version = past_version + 1
      WHERE team_id IN (OLD.team_id, NEW.team_id);
  END IF;
END;
-- split

-- Existing data, after the triggers exist: INSERT … SELECT reads the rows
-- with shared locks, so a deal or activity written meanwhile either waits
-- for it or is already counted in what it writes over.
INSERT INTO team_changes (team_id)
  SELECT id
  FROM teams
  WHERE id NOT IN (SELECT team_id FROM team_changes);
-- split

REPLACE INTO deal_month_totals (team_id, month, stage, deals, amount, goal)
  SELECT team_id, close_date - INTERVAL (DAYOFMONTH(close_date) - 1) DAY, stage, COUNT(*), SUM(amount), SUM(goal)
  FROM deals
  WHERE close_date IS NOT NULL
  GROUP BY 1, 2, 3;
-- split

REPLACE INTO activity_day_totals (team_id, day, user_id, type, n)
  SELECT team_id, DATE(at), user_id, type, COUNT(*)
  FROM activities
  GROUP BY 1, 2, 3, 4;
