-- The team's terms version: moved, with the list version, by the writes
-- that change what a search can match (the contact_terms and deal_terms
-- rows, the fields they are made of, records created and deleted), and
-- by no other. The search cache keys its term sets by it, so that a
-- status edit, a note or a next step moved on leaves them in place (see
-- store/listversion.go).
ALTER TABLE team_changes ADD COLUMN terms_version BIGINT NOT NULL DEFAULT 1;
