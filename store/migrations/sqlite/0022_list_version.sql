-- The team's list version: moved (in the write's own transaction, as its
-- last statement) by every write that can change what a contacts or deals
-- table shows, so that rendered list pages can be cached per version and
-- stay correct across instances (see store/listversion.go).
ALTER TABLE team_changes ADD COLUMN list_version BIGINT NOT NULL DEFAULT 1;
