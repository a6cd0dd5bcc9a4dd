-- Last contacted and next step on the contact: see the MySQL migration.
ALTER TABLE activities ADD COLUMN done_at TIMESTAMP NULL;
-- split
ALTER TABLE contacts ADD COLUMN last_contacted_at TIMESTAMP NULL;
-- split
ALTER TABLE contacts ADD COLUMN last_contacted_by INTEGER NULL;
-- split
ALTER TABLE contacts ADD COLUMN next_step_at TIMESTAMP NULL;
-- split
ALTER TABLE contacts ADD COLUMN next_step_label TEXT NOT NULL DEFAULT '';
-- split
CREATE INDEX contacts_last_contacted ON contacts (team_id, last_contacted_at, id, owner_id);
-- split
CREATE INDEX contacts_owner_last_contacted ON contacts (team_id, owner_id, last_contacted_at, id);
-- split
CREATE INDEX contacts_next_step ON contacts (team_id, next_step_at, id);
-- split
CREATE INDEX contacts_owner_next_step ON contacts (team_id, owner_id, next_step_at, id);
-- split
UPDATE activities SET done_at = (SELECT MIN(d.at) FROM activities d WHERE d.contact_id = activities.contact_id AND d.type = 'task_completed' AND d.at >= activities.at AND (activities.description = 'Task: ' || substr(d.description, 17) OR activities.description LIKE 'Task: ' || substr(d.description, 17) || ' (due %')) WHERE type = 'task';
-- split
UPDATE contacts SET last_contacted_at = (SELECT MAX(a.at) FROM activities a WHERE a.contact_id = contacts.id AND a.type IN ('email', 'meeting', 'note')), last_contacted_by = (SELECT a.user_id FROM activities a WHERE a.contact_id = contacts.id AND a.type IN ('email', 'meeting', 'note') ORDER BY a.at DESC, a.id DESC LIMIT 1) WHERE EXISTS (SELECT 1 FROM activities a WHERE a.contact_id = contacts.id);
-- split
UPDATE contacts SET next_step_at = (SELECT MIN(a.due_at) FROM activities a WHERE a.contact_id = contacts.id AND a.due_at > strftime('%Y-%m-%d %H:%M:%f', 'now') AND (a.type = 'meeting' OR (a.type = 'task' AND a.done_at IS NULL))), next_step_label = COALESCE((SELECT substr(a.description, 1, 200) FROM activities a WHERE a.contact_id = contacts.id AND a.due_at > strftime('%Y-%m-%d %H:%M:%f', 'now') AND (a.type = 'meeting' OR (a.type = 'task' AND a.done_at IS NULL)) ORDER BY a.due_at, a.id LIMIT 1), '') WHERE EXISTS (SELECT 1 FROM activities a WHERE a.contact_id = contacts.id AND a.due_at > strftime('%Y-%m-%d %H:%M:%f', 'now'));
-- split
CREATE TABLE list_settings (
  team_id INTEGER NOT NULL PRIMARY KEY REFERENCES teams (id) ON DELETE CASCADE,
  back_burner_days INTEGER NOT NULL DEFAULT 30
);
