-- Filters checked inside the sort index: see the MySQL migration.
DROP INDEX contacts_phone;
-- split
CREATE INDEX contacts_phone ON contacts (team_id, phone_digits, id, created_at);
-- split
DROP INDEX contacts_status;
-- split
CREATE INDEX contacts_status ON contacts (team_id, status, id, created_at);
-- split
DROP INDEX contacts_created;
-- split
CREATE INDEX contacts_created ON contacts (team_id, created_at, id, last_contacted_at);
-- split
DROP INDEX contacts_last_contacted;
-- split
CREATE INDEX contacts_last_contacted ON contacts (team_id, last_contacted_at, id, owner_id, created_at);
-- split
DROP INDEX contacts_next_step;
-- split
CREATE INDEX contacts_next_step ON contacts (team_id, next_step_at, id, last_contacted_at, created_at);
-- split
DROP INDEX deals_stage;
-- split
CREATE INDEX deals_stage ON deals (team_id, stage_rank, id, amount, close_date);
-- split
DROP INDEX deals_goal;
-- split
CREATE INDEX deals_goal ON deals (team_id, goal, id, amount);
-- split
DROP INDEX deals_created;
-- split
CREATE INDEX deals_created ON deals (team_id, created_at, id, close_date);
-- split
DROP INDEX deals_updated;
-- split
CREATE INDEX deals_updated ON deals (team_id, updated_at, id, close_date);
-- split
DROP INDEX contacts_owner_phone;
-- split
CREATE INDEX contacts_owner_phone ON contacts (team_id, owner_id, phone_digits, id, created_at);
-- split
DROP INDEX contacts_owner_status;
-- split
CREATE INDEX contacts_owner_status ON contacts (team_id, owner_id, status, id, created_at);
-- split
DROP INDEX contacts_owner_created;
-- split
CREATE INDEX contacts_owner_created ON contacts (team_id, owner_id, created_at, id, last_contacted_at);
-- split
DROP INDEX contacts_owner_last_contacted;
-- split
CREATE INDEX contacts_owner_last_contacted ON contacts (team_id, owner_id, last_contacted_at, id, created_at);
-- split
DROP INDEX contacts_owner_next_step;
-- split
CREATE INDEX contacts_owner_next_step ON contacts (team_id, owner_id, next_step_at, id, last_contacted_at, created_at);
-- split
DROP INDEX deals_owner_stage;
-- split
CREATE INDEX deals_owner_stage ON deals (team_id, owner_id, stage_rank, id, amount, close_date);
-- split
DROP INDEX deals_owner_goal;
-- split
CREATE INDEX deals_owner_goal ON deals (team_id, owner_id, goal, id, amount);
-- split
DROP INDEX deals_owner_created;
-- split
CREATE INDEX deals_owner_created ON deals (team_id, owner_id, created_at, id, close_date);
-- split
DROP INDEX deals_owner_updated;
-- split
CREATE INDEX deals_owner_updated ON deals (team_id, owner_id, updated_at, id, close_date);
