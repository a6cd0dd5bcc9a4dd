-- The team's import version: the part of the list version that import
-- jobs' batch commits moved (each batch moves both by one, in the batch's
-- transaction; no other write moves it). list_version - import_version
-- therefore moves only with the writes of users and of the app itself, so
-- the list cache can keep serving a page while only a running import has
-- added to the tables since it was drawn, for a short bound (see
-- store/listversion.go and handlers/list_cache.go).
ALTER TABLE team_changes ADD COLUMN import_version BIGINT NOT NULL DEFAULT 0;
