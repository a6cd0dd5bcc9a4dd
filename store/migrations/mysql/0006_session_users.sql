-- Each session records whose it is, so a user's other sessions can be ended
-- (a password change, "log out other devices").
ALTER TABLE sessions ADD COLUMN user_id BIGINT NULL, ADD KEY sessions_user (user_id);
-- split
-- A session whose login is older than this is logged out.
ALTER TABLE users ADD COLUMN sessions_since DATETIME(6) NULL;
