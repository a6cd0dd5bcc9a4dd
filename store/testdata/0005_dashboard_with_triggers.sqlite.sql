-- The dashboard: a change signal per team, monthly deal totals and daily
-- activity totals (see the MySQL migration of the same number for the
-- design). SQLite fires the
-- triggers of rows deleted by a foreign key cascade, so deleting a contact
-- needs no totals trigger of its own here. Statements are separated by
-- "-- split" lines (see store/migrate.go).
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
-- split

CREATE TRIGGER teams_ai_dashboard AFTER INSERT ON teams BEGIN
  INSERT INTO team_changes (team_id)
    VALUES (NEW.id);
END;
-- split

CREATE TRIGGER deals_ai_dashboard AFTER INSERT ON deals BEGIN
  UPDATE team_changes SET version = version + 1
    WHERE team_id = NEW.team_id;
  INSERT INTO deal_month_totals (team_id, month, stage, deals, amount, goal)
    SELECT NEW.team_id, substr(NEW.close_date, 1, 7) || '-01', NEW.stage, 1, NEW.amount, NEW.goal
    WHERE NEW.close_date IS NOT NULL
    ON CONFLICT (team_id, month, stage) DO UPDATE SET deals = deals + 1, amount = amount + excluded.amount, goal = goal + excluded.goal;
END;
-- split

CREATE TRIGGER deals_au_dashboard AFTER UPDATE ON deals
  WHEN OLD.team_id IS NOT NEW.team_id OR OLD.stage IS NOT NEW.stage OR OLD.amount IS NOT NEW.amount OR OLD.goal IS NOT NEW.goal OR OLD.close_date IS NOT NEW.close_date
BEGIN
  UPDATE team_changes SET version = version + 1
    WHERE team_id IN (OLD.team_id, NEW.team_id);
  UPDATE deal_month_totals SET deals = deals - 1, amount = amount - OLD.amount, goal = goal - OLD.goal
    WHERE team_id = OLD.team_id AND month = substr(OLD.close_date, 1, 7) || '-01' AND stage = OLD.stage;
  INSERT INTO deal_month_totals (team_id, month, stage, deals, amount, goal)
    SELECT NEW.team_id, substr(NEW.close_date, 1, 7) || '-01', NEW.stage, 1, NEW.amount, NEW.goal
    WHERE NEW.close_date IS NOT NULL
    ON CONFLICT (team_id, month, stage) DO UPDATE SET deals = deals + 1, amount = amount + excluded.amount, goal = goal + excluded.goal;
END;
-- split

CREATE TRIGGER deals_ad_dashboard AFTER DELETE ON deals BEGIN
  UPDATE team_changes SET version = version + 1, past_version = past_version + 1
    WHERE team_id = OLD.team_id;
  UPDATE deal_month_totals SET deals = deals - 1, amount = amount - OLD.amount, goal = goal - OLD.goal
    WHERE team_id = OLD.team_id AND month = substr(OLD.close_date, 1, 7) || '-01' AND stage = OLD.stage;
END;
-- split

CREATE TRIGGER deal_stage_log_ai_dashboard AFTER INSERT ON deal_stage_log BEGIN
  UPDATE team_changes SET version = version + 1, past_version = past_version + (NEW.at < strftime('%Y-%m-%d %H:%M:%f', 'now', '-1 hour'))
    WHERE team_id = NEW.team_id;
END;
-- split

CREATE TRIGGER deal_stage_log_au_dashboard AFTER UPDATE ON deal_stage_log BEGIN
  UPDATE team_changes SET version = version + 1, past_version = past_version + 1
    WHERE team_id IN (OLD.team_id, NEW.team_id);
END;
-- split

CREATE TRIGGER deal_stage_log_ad_dashboard AFTER DELETE ON deal_stage_log BEGIN
  UPDATE team_changes SET version = version + 1, past_version = past_version + 1
    WHERE team_id = OLD.team_id;
END;
-- split

CREATE TRIGGER activities_ai_dashboard AFTER INSERT ON activities BEGIN
  UPDATE team_changes SET version = version + 1, past_version = past_version + (NEW.at < strftime('%Y-%m-%d %H:%M:%f', 'now', '-1 hour'))
    WHERE team_id = NEW.team_id;
  INSERT INTO activity_day_totals (team_id, day, user_id, type, n)
    VALUES (NEW.team_id, substr(NEW.at, 1, 10), NEW.user_id, NEW.type, 1)
    ON CONFLICT (team_id, day, user_id, type) DO UPDATE SET n = n + 1;
END;
-- split

CREATE TRIGGER activities_au_dashboard AFTER UPDATE ON activities BEGIN
  UPDATE team_changes SET version = version + 1, past_version = past_version + 1
    WHERE team_id IN (OLD.team_id, NEW.team_id);
  UPDATE activity_day_totals SET n = n - 1
    WHERE team_id = OLD.team_id AND day = substr(OLD.at, 1, 10) AND user_id = OLD.user_id AND type = OLD.type;
  INSERT INTO activity_day_totals (team_id, day, user_id, type, n)
    VALUES (NEW.team_id, substr(NEW.at, 1, 10), NEW.user_id, NEW.type, 1)
    ON CONFLICT (team_id, day, user_id, type) DO UPDATE SET n = n + 1;
END;
-- split

CREATE TRIGGER activities_ad_dashboard AFTER DELETE ON activities BEGIN
  UPDATE team_changes SET version = version + 1, past_version = past_version + 1
    WHERE team_id = OLD.team_id;
  UPDATE activity_day_totals SET n = n - 1
    WHERE team_id = OLD.team_id AND day = substr(OLD.at, 1, 10) AND user_id = OLD.user_id AND type = OLD.type;
END;
-- split

CREATE TRIGGER contacts_ad_dashboard AFTER DELETE ON contacts BEGIN
  UPDATE team_changes SET version = version + 1, past_version = past_version + 1
    WHERE team_id = OLD.team_id;
END;
-- split

CREATE TRIGGER users_au_dashboard AFTER UPDATE ON users
  WHEN OLD.team_id IS NOT NEW.team_id OR OLD.name IS NOT NEW.name
BEGIN
  UPDATE team_changes SET version = version + 1, past_version = past_version + 1
    WHERE team_id IN (OLD.team_id, NEW.team_id);
END;
