-- Last contacted and next step, kept on the contact so that they sort and
-- page through an index like every other column (store/contact_touch.go).
--
-- last_contacted_at/by: the latest email, meeting or note logged for the
-- contact (activities.at) and who logged it. next_step_at/label: the
-- earliest open task or meeting ahead (activities.due_at) and its
-- description. Every write that logs an activity recomputes the four in its
-- own transaction. activities.done_at marks a task that a "task completed"
-- activity closed, so that it is no longer a next step.
--
-- list_settings.back_burner_days: after how many days without contact an
-- owned contact is on the team's back burner.
ALTER TABLE activities ADD COLUMN done_at DATETIME(6) NULL;
-- split
ALTER TABLE contacts ADD COLUMN last_contacted_at DATETIME(6) NULL, ADD COLUMN last_contacted_by BIGINT NULL, ADD COLUMN next_step_at DATETIME(6) NULL, ADD COLUMN next_step_label VARCHAR(200) NOT NULL DEFAULT '', ADD KEY contacts_last_contacted (team_id, last_contacted_at, id, owner_id), ADD KEY contacts_owner_last_contacted (team_id, owner_id, last_contacted_at, id), ADD KEY contacts_next_step (team_id, next_step_at, id), ADD KEY contacts_owner_next_step (team_id, owner_id, next_step_at, id);
-- split
UPDATE activities t JOIN (SELECT t2.id, MIN(d.at) AS done FROM activities t2 JOIN activities d ON d.contact_id = t2.contact_id AND d.type = 'task_completed' AND d.at >= t2.at AND (t2.description = CONCAT('Task: ', SUBSTRING(d.description, 17)) OR t2.description LIKE CONCAT('Task: ', SUBSTRING(d.description, 17), ' (due %')) WHERE t2.type = 'task' GROUP BY t2.id) x ON x.id = t.id SET t.done_at = x.done;
-- split
UPDATE contacts c SET c.last_contacted_at = (SELECT MAX(a.at) FROM activities a WHERE a.contact_id = c.id AND a.type IN ('email', 'meeting', 'note')), c.last_contacted_by = (SELECT a.user_id FROM activities a WHERE a.contact_id = c.id AND a.type IN ('email', 'meeting', 'note') ORDER BY a.at DESC, a.id DESC LIMIT 1) WHERE EXISTS (SELECT 1 FROM activities a WHERE a.contact_id = c.id);
-- split
UPDATE contacts c SET c.next_step_at = (SELECT MIN(a.due_at) FROM activities a WHERE a.contact_id = c.id AND a.due_at > UTC_TIMESTAMP(6) AND (a.type = 'meeting' OR (a.type = 'task' AND a.done_at IS NULL))), c.next_step_label = COALESCE((SELECT LEFT(a.description, 200) FROM activities a WHERE a.contact_id = c.id AND a.due_at > UTC_TIMESTAMP(6) AND (a.type = 'meeting' OR (a.type = 'task' AND a.done_at IS NULL)) ORDER BY a.due_at, a.id LIMIT 1), '') WHERE EXISTS (SELECT 1 FROM activities a WHERE a.contact_id = c.id AND a.due_at > UTC_TIMESTAMP(6));
-- split
CREATE TABLE list_settings (
  team_id BIGINT NOT NULL,
  back_burner_days INT NOT NULL DEFAULT 30,
  PRIMARY KEY (team_id),
  CONSTRAINT list_settings_team_fk FOREIGN KEY (team_id) REFERENCES teams (id) ON DELETE CASCADE
) ENGINE=InnoDB;
