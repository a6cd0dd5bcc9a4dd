-- Sherpa's current MySQL/MariaDB schema, for humans and DBAs.
-- Generated from the migrations in store/migrations/mysql; do not edit by hand.
-- Regenerate: SHERPA_UPDATE_SCHEMA=1 SHERPA_TEST_MYSQL_URL=mysql://root@127.0.0.1:3306/ go test ./store -run TestSchemaSQL

CREATE TABLE `activities` (
  `id` bigint(20) NOT NULL AUTO_INCREMENT,
  `team_id` bigint(20) NOT NULL,
  `contact_id` bigint(20) NOT NULL,
  `user_id` bigint(20) NOT NULL,
  `type` varchar(16) NOT NULL,
  `description` varchar(500) NOT NULL DEFAULT '',
  `at` datetime(6) NOT NULL,
  `due_at` datetime(6) DEFAULT NULL,
  `done_at` datetime(6) DEFAULT NULL,
  PRIMARY KEY (`id`),
  KEY `activities_contact` (`contact_id`,`at`,`id`),
  KEY `activities_team` (`team_id`,`at`,`user_id`,`type`),
  KEY `activities_due` (`contact_id`,`due_at`),
  CONSTRAINT `activities_contact_fk` FOREIGN KEY (`contact_id`) REFERENCES `contacts` (`id`) ON DELETE CASCADE,
  CONSTRAINT `activities_team_fk` FOREIGN KEY (`team_id`) REFERENCES `teams` (`id`) ON DELETE CASCADE
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci;

CREATE TABLE `activity_day_totals` (
  `team_id` bigint(20) NOT NULL,
  `day` date NOT NULL,
  `user_id` bigint(20) NOT NULL,
  `type` varchar(16) NOT NULL,
  `n` bigint(20) NOT NULL,
  PRIMARY KEY (`team_id`,`day`,`user_id`,`type`),
  CONSTRAINT `activity_day_totals_team_fk` FOREIGN KEY (`team_id`) REFERENCES `teams` (`id`) ON DELETE CASCADE
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci;

CREATE TABLE `api_idempotency` (
  `user_id` bigint(20) NOT NULL,
  `idem_key` varchar(255) CHARACTER SET ascii COLLATE ascii_bin NOT NULL,
  `request_hash` char(64) CHARACTER SET ascii COLLATE ascii_bin NOT NULL,
  `status` int(11) NOT NULL DEFAULT 0,
  `location` varchar(255) NOT NULL DEFAULT '',
  `body` mediumtext NOT NULL,
  `created_at` datetime(6) NOT NULL,
  `expires_at` datetime(6) NOT NULL,
  PRIMARY KEY (`user_id`,`idem_key`),
  KEY `api_idempotency_expiry` (`expires_at`),
  CONSTRAINT `api_idempotency_user_fk` FOREIGN KEY (`user_id`) REFERENCES `users` (`id`) ON DELETE CASCADE
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci;

CREATE TABLE `api_keys` (
  `id` bigint(20) NOT NULL AUTO_INCREMENT,
  `user_id` bigint(20) NOT NULL,
  `team_id` bigint(20) NOT NULL,
  `name` varchar(100) NOT NULL,
  `prefix` varchar(16) NOT NULL,
  `token_hash` char(64) CHARACTER SET ascii COLLATE ascii_bin NOT NULL,
  `scope` varchar(8) NOT NULL,
  `created_at` datetime(6) NOT NULL,
  `last_used_at` datetime(6) DEFAULT NULL,
  PRIMARY KEY (`id`),
  UNIQUE KEY `api_keys_token` (`token_hash`),
  KEY `api_keys_user` (`user_id`,`id`),
  KEY `api_keys_team_fk` (`team_id`),
  CONSTRAINT `api_keys_team_fk` FOREIGN KEY (`team_id`) REFERENCES `teams` (`id`) ON DELETE CASCADE,
  CONSTRAINT `api_keys_user_fk` FOREIGN KEY (`user_id`) REFERENCES `users` (`id`) ON DELETE CASCADE
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci;

CREATE TABLE `api_rate` (
  `key_id` bigint(20) NOT NULL,
  `tat` bigint(20) NOT NULL,
  PRIMARY KEY (`key_id`),
  CONSTRAINT `api_rate_key_fk` FOREIGN KEY (`key_id`) REFERENCES `api_keys` (`id`) ON DELETE CASCADE
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci;

CREATE TABLE `board_stages` (
  `team_id` bigint(20) NOT NULL,
  `stage` varchar(32) NOT NULL,
  `win_percent` int(11) NOT NULL,
  `stale_days` int(11) NOT NULL,
  PRIMARY KEY (`team_id`,`stage`),
  CONSTRAINT `board_stages_team_fk` FOREIGN KEY (`team_id`) REFERENCES `teams` (`id`) ON DELETE CASCADE
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci;

CREATE TABLE `bulk_jobs` (
  `id` bigint(20) NOT NULL AUTO_INCREMENT,
  `team_id` bigint(20) NOT NULL,
  `user_id` bigint(20) NOT NULL,
  `list` varchar(16) NOT NULL,
  `action` varchar(16) NOT NULL,
  `value` varchar(100) NOT NULL DEFAULT '',
  `selection` mediumtext NOT NULL,
  `status` varchar(16) NOT NULL,
  `total` bigint(20) NOT NULL DEFAULT 0,
  `done` bigint(20) NOT NULL DEFAULT 0,
  `changed` bigint(20) NOT NULL DEFAULT 0,
  `refused` bigint(20) NOT NULL DEFAULT 0,
  `kept` bigint(20) NOT NULL DEFAULT 0,
  `error` varchar(500) NOT NULL DEFAULT '',
  `lease_owner` varchar(64) NOT NULL DEFAULT '',
  `lease_until` datetime(6) DEFAULT NULL,
  `created_at` datetime(6) NOT NULL,
  `finished_at` datetime(6) DEFAULT NULL,
  `undone_at` datetime(6) DEFAULT NULL,
  PRIMARY KEY (`id`),
  KEY `bulk_jobs_team` (`team_id`,`created_at`,`id`),
  KEY `bulk_jobs_status` (`status`,`lease_until`),
  CONSTRAINT `bulk_jobs_team_fk` FOREIGN KEY (`team_id`) REFERENCES `teams` (`id`) ON DELETE CASCADE
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci;

CREATE TABLE `bulk_rows` (
  `job_id` bigint(20) NOT NULL,
  `record_id` bigint(20) NOT NULL,
  `outcome` varchar(8) NOT NULL,
  `before_value` varchar(100) NOT NULL DEFAULT '',
  `version_after` int(11) NOT NULL DEFAULT 0,
  `note` varchar(200) NOT NULL DEFAULT '',
  PRIMARY KEY (`job_id`,`record_id`),
  CONSTRAINT `bulk_rows_job_fk` FOREIGN KEY (`job_id`) REFERENCES `bulk_jobs` (`id`) ON DELETE CASCADE
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci;

CREATE TABLE `contact_terms` (
  `team_id` bigint(20) NOT NULL,
  `term` varchar(64) CHARACTER SET utf8mb4 COLLATE utf8mb4_bin NOT NULL,
  `contact_id` bigint(20) NOT NULL,
  PRIMARY KEY (`team_id`,`term`,`contact_id`),
  KEY `contact_terms_contact` (`contact_id`,`term`),
  CONSTRAINT `contact_terms_contact_fk` FOREIGN KEY (`contact_id`) REFERENCES `contacts` (`id`) ON DELETE CASCADE
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci;

CREATE TABLE `contacts` (
  `id` bigint(20) NOT NULL AUTO_INCREMENT,
  `team_id` bigint(20) NOT NULL,
  `name` varchar(100) NOT NULL,
  `email` varchar(254) NOT NULL,
  `phone` varchar(40) NOT NULL DEFAULT '',
  `phone_digits` varchar(40) NOT NULL DEFAULT '',
  `company` varchar(100) NOT NULL DEFAULT '',
  `status` varchar(32) NOT NULL DEFAULT 'New',
  `owner_id` bigint(20) DEFAULT NULL,
  `version` int(11) NOT NULL DEFAULT 1,
  `created_at` datetime(6) NOT NULL,
  `updated_at` datetime(6) NOT NULL,
  `last_contacted_at` datetime(6) DEFAULT NULL,
  `last_contacted_by` bigint(20) DEFAULT NULL,
  `next_step_at` datetime(6) DEFAULT NULL,
  `next_step_label` varchar(200) NOT NULL DEFAULT '',
  PRIMARY KEY (`id`),
  UNIQUE KEY `contacts_email` (`team_id`,`email`),
  KEY `contacts_name` (`team_id`,`name`,`id`),
  KEY `contacts_company` (`team_id`,`company`,`id`),
  KEY `contacts_updated` (`team_id`,`updated_at`,`id`),
  KEY `contacts_owner_name` (`team_id`,`owner_id`,`name`,`id`),
  KEY `contacts_owner_email` (`team_id`,`owner_id`,`email`,`id`),
  KEY `contacts_owner_company` (`team_id`,`owner_id`,`company`,`id`),
  KEY `contacts_owner_updated` (`team_id`,`owner_id`,`updated_at`,`id`),
  KEY `contacts_phone` (`team_id`,`phone_digits`,`id`,`created_at`),
  KEY `contacts_status` (`team_id`,`status`,`id`,`created_at`),
  KEY `contacts_created` (`team_id`,`created_at`,`id`,`last_contacted_at`),
  KEY `contacts_last_contacted` (`team_id`,`last_contacted_at`,`id`,`owner_id`,`created_at`),
  KEY `contacts_next_step` (`team_id`,`next_step_at`,`id`,`last_contacted_at`,`created_at`),
  KEY `contacts_owner_phone` (`team_id`,`owner_id`,`phone_digits`,`id`,`created_at`),
  KEY `contacts_owner_status` (`team_id`,`owner_id`,`status`,`id`,`created_at`),
  KEY `contacts_owner_created` (`team_id`,`owner_id`,`created_at`,`id`,`last_contacted_at`),
  KEY `contacts_owner_last_contacted` (`team_id`,`owner_id`,`last_contacted_at`,`id`,`created_at`),
  KEY `contacts_owner_next_step` (`team_id`,`owner_id`,`next_step_at`,`id`,`last_contacted_at`,`created_at`),
  CONSTRAINT `contacts_team_fk` FOREIGN KEY (`team_id`) REFERENCES `teams` (`id`) ON DELETE CASCADE
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci;

CREATE TABLE `deal_month_totals` (
  `team_id` bigint(20) NOT NULL,
  `month` date NOT NULL,
  `stage` varchar(32) NOT NULL,
  `deals` bigint(20) NOT NULL,
  `amount` bigint(20) NOT NULL,
  `goal` bigint(20) NOT NULL,
  PRIMARY KEY (`team_id`,`month`,`stage`),
  CONSTRAINT `deal_month_totals_team_fk` FOREIGN KEY (`team_id`) REFERENCES `teams` (`id`) ON DELETE CASCADE
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci;

CREATE TABLE `deal_stage_log` (
  `id` bigint(20) NOT NULL AUTO_INCREMENT,
  `team_id` bigint(20) NOT NULL,
  `deal_id` bigint(20) NOT NULL,
  `from_stage` varchar(32) NOT NULL,
  `to_stage` varchar(32) NOT NULL,
  `user_id` bigint(20) NOT NULL,
  `at` datetime(6) NOT NULL,
  `kind` varchar(8) NOT NULL DEFAULT 'move',
  `prev_close_date` date DEFAULT NULL,
  `reason` varchar(64) NOT NULL DEFAULT '',
  `note` varchar(500) NOT NULL DEFAULT '',
  PRIMARY KEY (`id`),
  KEY `deal_stage_log_deal` (`deal_id`,`at`,`id`),
  KEY `deal_stage_log_team` (`team_id`,`at`,`to_stage`,`deal_id`,`kind`),
  CONSTRAINT `deal_stage_log_deal_fk` FOREIGN KEY (`deal_id`) REFERENCES `deals` (`id`) ON DELETE CASCADE,
  CONSTRAINT `deal_stage_log_team_fk` FOREIGN KEY (`team_id`) REFERENCES `teams` (`id`) ON DELETE CASCADE
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci;

CREATE TABLE `deal_stage_totals` (
  `team_id` bigint(20) NOT NULL,
  `stage` varchar(32) NOT NULL,
  `deals` bigint(20) NOT NULL,
  `amount` bigint(20) NOT NULL,
  PRIMARY KEY (`team_id`,`stage`),
  CONSTRAINT `deal_stage_totals_team_fk` FOREIGN KEY (`team_id`) REFERENCES `teams` (`id`) ON DELETE CASCADE
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci;

CREATE TABLE `deal_terms` (
  `team_id` bigint(20) NOT NULL,
  `term` varchar(64) CHARACTER SET utf8mb4 COLLATE utf8mb4_bin NOT NULL,
  `deal_id` bigint(20) NOT NULL,
  PRIMARY KEY (`team_id`,`term`,`deal_id`),
  KEY `deal_terms_deal` (`deal_id`,`term`),
  CONSTRAINT `deal_terms_deal_fk` FOREIGN KEY (`deal_id`) REFERENCES `deals` (`id`) ON DELETE CASCADE
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci;

CREATE TABLE `deals` (
  `id` bigint(20) NOT NULL AUTO_INCREMENT,
  `team_id` bigint(20) NOT NULL,
  `contact_id` bigint(20) NOT NULL,
  `name` varchar(100) NOT NULL,
  `stage` varchar(32) NOT NULL,
  `stage_rank` smallint(6) NOT NULL,
  `goal` bigint(20) NOT NULL DEFAULT 0,
  `amount` bigint(20) NOT NULL DEFAULT 0,
  `close_date` date DEFAULT NULL,
  `owner_id` bigint(20) DEFAULT NULL,
  `contact_name` varchar(100) NOT NULL,
  `company` varchar(100) NOT NULL DEFAULT '',
  `version` int(11) NOT NULL DEFAULT 1,
  `created_at` datetime(6) NOT NULL,
  `updated_at` datetime(6) NOT NULL,
  `closed_at` datetime(6) DEFAULT NULL,
  `lost_reason` varchar(64) NOT NULL DEFAULT '',
  `lost_note` varchar(500) NOT NULL DEFAULT '',
  `last_touched_at` datetime(6) DEFAULT NULL,
  `next_due_at` datetime(6) DEFAULT NULL,
  `stage_since` datetime(6) DEFAULT NULL,
  PRIMARY KEY (`id`),
  KEY `deals_of_contact` (`contact_id`,`id`),
  KEY `deals_name` (`team_id`,`name`,`id`),
  KEY `deals_amount` (`team_id`,`amount`,`id`),
  KEY `deals_close_date` (`team_id`,`close_date`,`id`),
  KEY `deals_contact` (`team_id`,`contact_name`,`id`),
  KEY `deals_company` (`team_id`,`company`,`id`),
  KEY `deals_owner_name` (`team_id`,`owner_id`,`name`,`id`),
  KEY `deals_owner_amount` (`team_id`,`owner_id`,`amount`,`id`),
  KEY `deals_owner_close_date` (`team_id`,`owner_id`,`close_date`,`id`),
  KEY `deals_owner_contact` (`team_id`,`owner_id`,`contact_name`,`id`),
  KEY `deals_owner_company` (`team_id`,`owner_id`,`company`,`id`),
  KEY `deals_board` (`team_id`,`stage`,`close_date`,`amount`,`id`,`last_touched_at`,`next_due_at`),
  KEY `deals_owner_board` (`team_id`,`owner_id`,`stage`,`close_date`,`amount`,`id`,`last_touched_at`,`next_due_at`),
  KEY `deals_stage` (`team_id`,`stage_rank`,`id`,`amount`,`close_date`),
  KEY `deals_goal` (`team_id`,`goal`,`id`,`amount`),
  KEY `deals_created` (`team_id`,`created_at`,`id`,`close_date`),
  KEY `deals_updated` (`team_id`,`updated_at`,`id`,`close_date`),
  KEY `deals_owner_stage` (`team_id`,`owner_id`,`stage_rank`,`id`,`amount`,`close_date`),
  KEY `deals_owner_goal` (`team_id`,`owner_id`,`goal`,`id`,`amount`),
  KEY `deals_owner_created` (`team_id`,`owner_id`,`created_at`,`id`,`close_date`),
  KEY `deals_owner_updated` (`team_id`,`owner_id`,`updated_at`,`id`,`close_date`),
  CONSTRAINT `deals_contact_fk` FOREIGN KEY (`contact_id`) REFERENCES `contacts` (`id`) ON DELETE CASCADE,
  CONSTRAINT `deals_team_fk` FOREIGN KEY (`team_id`) REFERENCES `teams` (`id`) ON DELETE CASCADE
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci;

CREATE TABLE `form_claims` (
  `user_id` bigint(20) NOT NULL,
  `key_hash` char(64) CHARACTER SET ascii COLLATE ascii_bin NOT NULL,
  `kind` varchar(20) NOT NULL,
  `created_at` datetime(6) NOT NULL,
  PRIMARY KEY (`user_id`,`key_hash`),
  KEY `form_claims_created` (`created_at`),
  CONSTRAINT `form_claims_user_fk` FOREIGN KEY (`user_id`) REFERENCES `users` (`id`) ON DELETE CASCADE
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci;

CREATE TABLE `google_accounts` (
  `user_id` bigint(20) NOT NULL,
  `google_email` varchar(254) NOT NULL,
  `sealed_token` blob NOT NULL,
  `connected_at` datetime(6) NOT NULL,
  `updated_at` datetime(6) NOT NULL,
  PRIMARY KEY (`user_id`),
  CONSTRAINT `google_accounts_user_fk` FOREIGN KEY (`user_id`) REFERENCES `users` (`id`) ON DELETE CASCADE
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci;

CREATE TABLE `google_task_lists` (
  `user_id` bigint(20) NOT NULL,
  `contact_id` bigint(20) NOT NULL,
  `list_id` varchar(255) CHARACTER SET ascii COLLATE ascii_bin NOT NULL,
  `created_at` datetime(6) NOT NULL,
  PRIMARY KEY (`user_id`,`contact_id`),
  CONSTRAINT `google_task_lists_user_fk` FOREIGN KEY (`user_id`) REFERENCES `users` (`id`) ON DELETE CASCADE
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci;

CREATE TABLE `import_changes` (
  `import_id` bigint(20) NOT NULL,
  `record_id` bigint(20) NOT NULL,
  `team_id` bigint(20) NOT NULL,
  `kind` varchar(16) NOT NULL,
  `action` varchar(8) NOT NULL,
  `version_after` int(11) NOT NULL,
  `before_json` text DEFAULT NULL,
  `kept` tinyint(4) NOT NULL DEFAULT 0,
  PRIMARY KEY (`import_id`,`record_id`),
  KEY `import_changes_record` (`team_id`,`kind`,`record_id`),
  CONSTRAINT `import_changes_import_fk` FOREIGN KEY (`import_id`) REFERENCES `imports` (`id`) ON DELETE CASCADE
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci;

CREATE TABLE `import_chunks` (
  `import_id` bigint(20) NOT NULL,
  `seq` int(11) NOT NULL,
  `data` mediumblob NOT NULL,
  PRIMARY KEY (`import_id`,`seq`),
  CONSTRAINT `import_chunks_import_fk` FOREIGN KEY (`import_id`) REFERENCES `imports` (`id`) ON DELETE CASCADE
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci;

CREATE TABLE `import_rejects` (
  `import_id` bigint(20) NOT NULL,
  `line` bigint(20) NOT NULL,
  `reason` varchar(500) NOT NULL,
  `raw` mediumtext NOT NULL,
  PRIMARY KEY (`import_id`,`line`),
  CONSTRAINT `import_rejects_import_fk` FOREIGN KEY (`import_id`) REFERENCES `imports` (`id`) ON DELETE CASCADE
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci;

CREATE TABLE `import_settings` (
  `team_id` bigint(20) NOT NULL,
  `members_may_import` tinyint(4) NOT NULL DEFAULT 0,
  PRIMARY KEY (`team_id`),
  CONSTRAINT `import_settings_team_fk` FOREIGN KEY (`team_id`) REFERENCES `teams` (`id`) ON DELETE CASCADE
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci;

CREATE TABLE `imports` (
  `id` bigint(20) NOT NULL AUTO_INCREMENT,
  `team_id` bigint(20) NOT NULL,
  `user_id` bigint(20) NOT NULL,
  `file_name` varchar(255) NOT NULL,
  `kind` varchar(16) NOT NULL,
  `size` bigint(20) NOT NULL DEFAULT 0,
  `detected` mediumtext NOT NULL,
  `mapping` mediumtext NOT NULL,
  `preview` mediumtext NOT NULL,
  `mode` varchar(16) NOT NULL DEFAULT 'create',
  `status` varchar(16) NOT NULL,
  `rows_done` bigint(20) NOT NULL DEFAULT 0,
  `rows_total` bigint(20) NOT NULL DEFAULT 0,
  `created` bigint(20) NOT NULL DEFAULT 0,
  `updated` bigint(20) NOT NULL DEFAULT 0,
  `skipped` bigint(20) NOT NULL DEFAULT 0,
  `rejected` bigint(20) NOT NULL DEFAULT 0,
  `error` varchar(500) NOT NULL DEFAULT '',
  `lease_owner` varchar(64) NOT NULL DEFAULT '',
  `lease_until` datetime(6) DEFAULT NULL,
  `created_at` datetime(6) NOT NULL,
  `started_at` datetime(6) DEFAULT NULL,
  `finished_at` datetime(6) DEFAULT NULL,
  `undone_at` datetime(6) DEFAULT NULL,
  `undone_by` bigint(20) DEFAULT NULL,
  `undo_kept` bigint(20) NOT NULL DEFAULT 0,
  `undo_done` bigint(20) NOT NULL DEFAULT 0,
  PRIMARY KEY (`id`),
  KEY `imports_team` (`team_id`,`created_at`,`id`),
  KEY `imports_status` (`status`,`lease_until`),
  CONSTRAINT `imports_team_fk` FOREIGN KEY (`team_id`) REFERENCES `teams` (`id`) ON DELETE CASCADE
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci;

CREATE TABLE `invitations` (
  `id` bigint(20) NOT NULL AUTO_INCREMENT,
  `team_id` bigint(20) NOT NULL,
  `email` varchar(254) NOT NULL,
  `token_hash` char(64) NOT NULL,
  `invited_by` bigint(20) NOT NULL,
  `created_at` datetime(6) NOT NULL,
  `expires_at` datetime(6) NOT NULL,
  `accepted_at` datetime(6) DEFAULT NULL,
  `accepted_by` bigint(20) DEFAULT NULL,
  `revoked_at` datetime(6) DEFAULT NULL,
  PRIMARY KEY (`id`),
  UNIQUE KEY `invitations_token` (`token_hash`),
  KEY `invitations_team` (`team_id`,`accepted_at`,`revoked_at`,`expires_at`),
  KEY `invitations_email` (`email`),
  CONSTRAINT `invitations_team_fk` FOREIGN KEY (`team_id`) REFERENCES `teams` (`id`) ON DELETE CASCADE
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci;

CREATE TABLE `list_columns` (
  `user_id` bigint(20) NOT NULL,
  `list` varchar(20) NOT NULL,
  `columns` varchar(500) NOT NULL,
  PRIMARY KEY (`user_id`,`list`),
  CONSTRAINT `list_columns_user` FOREIGN KEY (`user_id`) REFERENCES `users` (`id`) ON DELETE CASCADE
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci;

CREATE TABLE `list_settings` (
  `team_id` bigint(20) NOT NULL,
  `back_burner_days` int(11) NOT NULL DEFAULT 30,
  PRIMARY KEY (`team_id`),
  CONSTRAINT `list_settings_team_fk` FOREIGN KEY (`team_id`) REFERENCES `teams` (`id`) ON DELETE CASCADE
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci;

CREATE TABLE `login_throttle` (
  `throttle_key` varchar(300) NOT NULL,
  `failures` int(11) NOT NULL,
  `window_start` datetime(6) NOT NULL,
  `locked_until` datetime(6) DEFAULT NULL,
  PRIMARY KEY (`throttle_key`)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_bin;

CREATE TABLE `lost_reasons` (
  `team_id` bigint(20) NOT NULL,
  `position` int(11) NOT NULL,
  `reason` varchar(64) NOT NULL,
  PRIMARY KEY (`team_id`,`position`),
  CONSTRAINT `lost_reasons_team_fk` FOREIGN KEY (`team_id`) REFERENCES `teams` (`id`) ON DELETE CASCADE
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci;

CREATE TABLE `notes` (
  `id` bigint(20) NOT NULL AUTO_INCREMENT,
  `team_id` bigint(20) NOT NULL,
  `contact_id` bigint(20) NOT NULL,
  `author_id` bigint(20) NOT NULL,
  `body` text NOT NULL,
  `created_at` datetime(6) NOT NULL,
  PRIMARY KEY (`id`),
  KEY `notes_contact` (`contact_id`,`created_at`,`id`),
  CONSTRAINT `notes_contact_fk` FOREIGN KEY (`contact_id`) REFERENCES `contacts` (`id`) ON DELETE CASCADE
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci;

CREATE TABLE `oauth_states` (
  `state_hash` char(64) CHARACTER SET ascii COLLATE ascii_bin NOT NULL,
  `user_id` bigint(20) NOT NULL,
  `verifier_sealed` blob NOT NULL,
  `return_to` varchar(500) NOT NULL,
  `created_at` datetime(6) NOT NULL,
  `expires_at` datetime(6) NOT NULL,
  PRIMARY KEY (`state_hash`),
  KEY `oauth_states_user` (`user_id`),
  KEY `oauth_states_expires` (`expires_at`),
  CONSTRAINT `oauth_states_user_fk` FOREIGN KEY (`user_id`) REFERENCES `users` (`id`) ON DELETE CASCADE
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci;

CREATE TABLE `saved_views` (
  `id` bigint(20) NOT NULL AUTO_INCREMENT,
  `team_id` bigint(20) NOT NULL,
  `user_id` bigint(20) NOT NULL,
  `list` varchar(16) NOT NULL,
  `name` varchar(60) NOT NULL,
  `query` text NOT NULL,
  `shared` tinyint(4) NOT NULL DEFAULT 0,
  `position` int(11) NOT NULL DEFAULT 0,
  `created_at` datetime(6) NOT NULL,
  `updated_at` datetime(6) NOT NULL,
  PRIMARY KEY (`id`),
  KEY `saved_views_team` (`team_id`,`list`,`position`,`id`),
  CONSTRAINT `saved_views_team_fk` FOREIGN KEY (`team_id`) REFERENCES `teams` (`id`) ON DELETE CASCADE
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci;

CREATE TABLE `schema_migration_steps` (
  `version` int(11) NOT NULL,
  `step` int(11) NOT NULL,
  PRIMARY KEY (`version`,`step`)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci;

CREATE TABLE `schema_migrations` (
  `version` int(11) NOT NULL,
  `name` varchar(200) NOT NULL,
  `applied_at` varchar(40) NOT NULL,
  PRIMARY KEY (`version`)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci;

CREATE TABLE `sessions` (
  `token` char(43) CHARACTER SET ascii COLLATE ascii_bin NOT NULL,
  `data` blob NOT NULL,
  `expiry` datetime(6) NOT NULL,
  `user_id` bigint(20) DEFAULT NULL,
  PRIMARY KEY (`token`),
  KEY `sessions_expiry` (`expiry`),
  KEY `sessions_user` (`user_id`)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci;

CREATE TABLE `settings` (
  `name` varchar(64) NOT NULL,
  `value` varchar(255) NOT NULL,
  PRIMARY KEY (`name`)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci;

CREATE TABLE `team_changes` (
  `team_id` bigint(20) NOT NULL,
  `version` bigint(20) NOT NULL DEFAULT 1,
  `past_version` bigint(20) NOT NULL DEFAULT 1,
  `list_version` bigint(20) NOT NULL DEFAULT 1,
  `terms_version` bigint(20) NOT NULL DEFAULT 1,
  `import_version` bigint(20) NOT NULL DEFAULT 0,
  PRIMARY KEY (`team_id`),
  CONSTRAINT `team_changes_team_fk` FOREIGN KEY (`team_id`) REFERENCES `teams` (`id`) ON DELETE CASCADE
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci;

CREATE TABLE `teams` (
  `id` bigint(20) NOT NULL AUTO_INCREMENT,
  `name` varchar(100) NOT NULL,
  `currency` char(3) NOT NULL DEFAULT 'EUR',
  `time_zone` varchar(64) NOT NULL DEFAULT 'UTC',
  `created_at` datetime(6) NOT NULL,
  PRIMARY KEY (`id`)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci;

CREATE TABLE `term_changes` (
  `team_id` bigint(20) NOT NULL,
  `version` bigint(20) NOT NULL,
  `term_table` tinyint(4) NOT NULL,
  `record_id` bigint(20) NOT NULL,
  PRIMARY KEY (`team_id`,`version`,`term_table`,`record_id`),
  CONSTRAINT `term_changes_team_fk` FOREIGN KEY (`team_id`) REFERENCES `teams` (`id`) ON DELETE CASCADE
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci;

CREATE TABLE `users` (
  `id` bigint(20) NOT NULL AUTO_INCREMENT,
  `email` varchar(254) NOT NULL,
  `name` varchar(100) NOT NULL,
  `password_hash` varchar(255) NOT NULL,
  `team_id` bigint(20) DEFAULT NULL,
  `role` varchar(16) NOT NULL DEFAULT '',
  `created_at` datetime(6) NOT NULL,
  `updated_at` datetime(6) NOT NULL,
  `sessions_since` datetime(6) DEFAULT NULL,
  PRIMARY KEY (`id`),
  UNIQUE KEY `users_email` (`email`),
  KEY `users_team` (`team_id`,`role`,`id`),
  CONSTRAINT `users_team_fk` FOREIGN KEY (`team_id`) REFERENCES `teams` (`id`)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci;

CREATE TABLE `webhook_deliveries` (
  `id` bigint(20) NOT NULL AUTO_INCREMENT,
  `team_id` bigint(20) NOT NULL,
  `endpoint_id` bigint(20) NOT NULL,
  `event_id` bigint(20) NOT NULL,
  `record_key` varchar(40) CHARACTER SET ascii COLLATE ascii_bin NOT NULL,
  `status` varchar(12) NOT NULL,
  `attempts` int(11) NOT NULL DEFAULT 0,
  `next_at` datetime(6) NOT NULL,
  `give_up_at` datetime(6) NOT NULL,
  `lease_owner` varchar(64) NOT NULL DEFAULT '',
  `lease_until` datetime(6) DEFAULT NULL,
  `last_code` int(11) NOT NULL DEFAULT 0,
  `last_error` varchar(500) NOT NULL DEFAULT '',
  `last_at` datetime(6) DEFAULT NULL,
  `last_ms` int(11) NOT NULL DEFAULT 0,
  `delivered_at` datetime(6) DEFAULT NULL,
  `created_at` datetime(6) NOT NULL,
  PRIMARY KEY (`id`),
  KEY `webhook_deliveries_due` (`status`,`next_at`,`id`),
  KEY `webhook_deliveries_order` (`endpoint_id`,`record_key`,`status`,`id`),
  KEY `webhook_deliveries_team` (`team_id`,`id`),
  KEY `webhook_deliveries_event_fk` (`event_id`),
  CONSTRAINT `webhook_deliveries_endpoint_fk` FOREIGN KEY (`endpoint_id`) REFERENCES `webhook_endpoints` (`id`) ON DELETE CASCADE,
  CONSTRAINT `webhook_deliveries_event_fk` FOREIGN KEY (`event_id`) REFERENCES `webhook_events` (`id`) ON DELETE CASCADE
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci;

CREATE TABLE `webhook_endpoints` (
  `id` bigint(20) NOT NULL AUTO_INCREMENT,
  `team_id` bigint(20) NOT NULL,
  `url` varchar(2000) NOT NULL,
  `events` varchar(500) NOT NULL,
  `secret` varchar(100) CHARACTER SET ascii COLLATE ascii_bin NOT NULL,
  `active` tinyint(4) NOT NULL DEFAULT 1,
  `disabled_reason` varchar(500) NOT NULL DEFAULT '',
  `disabled_at` datetime(6) DEFAULT NULL,
  `failing_since` datetime(6) DEFAULT NULL,
  `created_by` bigint(20) NOT NULL,
  `created_at` datetime(6) NOT NULL,
  PRIMARY KEY (`id`),
  KEY `webhook_endpoints_team` (`team_id`,`active`,`id`),
  CONSTRAINT `webhook_endpoints_team_fk` FOREIGN KEY (`team_id`) REFERENCES `teams` (`id`) ON DELETE CASCADE
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci;

CREATE TABLE `webhook_events` (
  `id` bigint(20) NOT NULL AUTO_INCREMENT,
  `team_id` bigint(20) NOT NULL,
  `type` varchar(40) NOT NULL,
  `record_kind` varchar(16) NOT NULL,
  `record_id` bigint(20) NOT NULL,
  `actor_id` bigint(20) NOT NULL,
  `payload` mediumtext NOT NULL,
  `created_at` datetime(6) NOT NULL,
  PRIMARY KEY (`id`),
  KEY `webhook_events_team` (`team_id`,`id`),
  CONSTRAINT `webhook_events_team_fk` FOREIGN KEY (`team_id`) REFERENCES `teams` (`id`) ON DELETE CASCADE
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci;

