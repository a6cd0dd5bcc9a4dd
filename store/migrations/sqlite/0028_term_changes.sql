-- Which records' search terms each move of a team's terms version
-- changed (record_id 0: unknown or too many — every record). The search
-- cache carries its word sets and ordered sets across a term write by
-- re-reading only these records, instead of reading them all anew (see
-- store/search_patch.go). Old versions are pruned as new ones come.
CREATE TABLE term_changes (
  team_id INTEGER NOT NULL REFERENCES teams (id) ON DELETE CASCADE,
  version INTEGER NOT NULL,
  term_table INTEGER NOT NULL,
  record_id INTEGER NOT NULL,
  PRIMARY KEY (team_id, version, term_table, record_id)
) WITHOUT ROWID;
