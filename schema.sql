-- Sherpa's current MySQL/MariaDB schema, for humans and DBAs.
-- Generated from the migrations in store/migrations/mysql; do not edit by hand.
-- Regenerate: SHERPA_UPDATE_SCHEMA=1 SHERPA_TEST_MYSQL_URL=mysql://root@127.0.0.1:3306/ go test ./store -run TestSchemaSQL

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

CREATE TABLE `login_throttle` (
  `throttle_key` varchar(300) NOT NULL,
  `failures` int(11) NOT NULL,
  `window_start` datetime(6) NOT NULL,
  `locked_until` datetime(6) DEFAULT NULL,
  PRIMARY KEY (`throttle_key`)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_bin;

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
  PRIMARY KEY (`token`),
  KEY `sessions_expiry` (`expiry`)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci;

CREATE TABLE `settings` (
  `name` varchar(64) NOT NULL,
  `value` varchar(255) NOT NULL,
  PRIMARY KEY (`name`)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci;

CREATE TABLE `teams` (
  `id` bigint(20) NOT NULL AUTO_INCREMENT,
  `name` varchar(100) NOT NULL,
  `currency` char(3) NOT NULL DEFAULT 'EUR',
  `time_zone` varchar(64) NOT NULL DEFAULT 'UTC',
  `created_at` datetime(6) NOT NULL,
  PRIMARY KEY (`id`)
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
  PRIMARY KEY (`id`),
  UNIQUE KEY `users_email` (`email`),
  KEY `users_team` (`team_id`,`role`,`id`),
  CONSTRAINT `users_team_fk` FOREIGN KEY (`team_id`) REFERENCES `teams` (`id`)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci;

