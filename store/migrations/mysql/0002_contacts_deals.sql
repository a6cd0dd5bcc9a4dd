CREATE TABLE contacts (
  id BIGINT NOT NULL AUTO_INCREMENT,
  team_id BIGINT NOT NULL,
  name VARCHAR(100) NOT NULL,
  email VARCHAR(254) NOT NULL,
  phone VARCHAR(40) NOT NULL DEFAULT '',
  phone_digits VARCHAR(40) NOT NULL DEFAULT '',
  company VARCHAR(100) NOT NULL DEFAULT '',
  status VARCHAR(32) NOT NULL DEFAULT 'New',
  owner_id BIGINT NULL,
  version INT NOT NULL DEFAULT 1,
  created_at DATETIME(6) NOT NULL,
  updated_at DATETIME(6) NOT NULL,
  PRIMARY KEY (id),
  UNIQUE KEY contacts_email (team_id, email),
  KEY contacts_name (team_id, name, id),
  KEY contacts_phone (team_id, phone_digits, id),
  KEY contacts_company (team_id, company, id),
  KEY contacts_status (team_id, status, id),
  KEY contacts_created (team_id, created_at, id),
  KEY contacts_updated (team_id, updated_at, id),
  KEY contacts_owner_name (team_id, owner_id, name, id),
  KEY contacts_owner_email (team_id, owner_id, email, id),
  KEY contacts_owner_phone (team_id, owner_id, phone_digits, id),
  KEY contacts_owner_company (team_id, owner_id, company, id),
  KEY contacts_owner_status (team_id, owner_id, status, id),
  KEY contacts_owner_created (team_id, owner_id, created_at, id),
  KEY contacts_owner_updated (team_id, owner_id, updated_at, id),
  CONSTRAINT contacts_team_fk FOREIGN KEY (team_id) REFERENCES teams (id) ON DELETE CASCADE
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci;
-- split

CREATE TABLE contact_terms (
  team_id BIGINT NOT NULL,
  term VARCHAR(64) CHARACTER SET utf8mb4 COLLATE utf8mb4_bin NOT NULL,
  contact_id BIGINT NOT NULL,
  PRIMARY KEY (team_id, term, contact_id),
  KEY contact_terms_contact (contact_id, term),
  CONSTRAINT contact_terms_contact_fk FOREIGN KEY (contact_id) REFERENCES contacts (id) ON DELETE CASCADE
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci;
-- split

CREATE TABLE deals (
  id BIGINT NOT NULL AUTO_INCREMENT,
  team_id BIGINT NOT NULL,
  contact_id BIGINT NOT NULL,
  name VARCHAR(100) NOT NULL,
  stage VARCHAR(32) NOT NULL,
  stage_rank SMALLINT NOT NULL,
  goal BIGINT NOT NULL DEFAULT 0,
  amount BIGINT NOT NULL DEFAULT 0,
  close_date DATE NULL,
  owner_id BIGINT NULL,
  contact_name VARCHAR(100) NOT NULL,
  company VARCHAR(100) NOT NULL DEFAULT '',
  version INT NOT NULL DEFAULT 1,
  created_at DATETIME(6) NOT NULL,
  updated_at DATETIME(6) NOT NULL,
  closed_at DATETIME(6) NULL,
  PRIMARY KEY (id),
  KEY deals_of_contact (contact_id, id),
  KEY deals_name (team_id, name, id),
  KEY deals_stage (team_id, stage_rank, id),
  KEY deals_goal (team_id, goal, id),
  KEY deals_amount (team_id, amount, id),
  KEY deals_close_date (team_id, close_date, id),
  KEY deals_contact (team_id, contact_name, id),
  KEY deals_company (team_id, company, id),
  KEY deals_created (team_id, created_at, id),
  KEY deals_updated (team_id, updated_at, id),
  KEY deals_owner_name (team_id, owner_id, name, id),
  KEY deals_owner_stage (team_id, owner_id, stage_rank, id),
  KEY deals_owner_goal (team_id, owner_id, goal, id),
  KEY deals_owner_amount (team_id, owner_id, amount, id),
  KEY deals_owner_close_date (team_id, owner_id, close_date, id),
  KEY deals_owner_contact (team_id, owner_id, contact_name, id),
  KEY deals_owner_company (team_id, owner_id, company, id),
  KEY deals_owner_created (team_id, owner_id, created_at, id),
  KEY deals_owner_updated (team_id, owner_id, updated_at, id),
  CONSTRAINT deals_team_fk FOREIGN KEY (team_id) REFERENCES teams (id) ON DELETE CASCADE,
  CONSTRAINT deals_contact_fk FOREIGN KEY (contact_id) REFERENCES contacts (id) ON DELETE CASCADE
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci;
-- split

CREATE TABLE deal_terms (
  team_id BIGINT NOT NULL,
  term VARCHAR(64) CHARACTER SET utf8mb4 COLLATE utf8mb4_bin NOT NULL,
  deal_id BIGINT NOT NULL,
  PRIMARY KEY (team_id, term, deal_id),
  KEY deal_terms_deal (deal_id, term),
  CONSTRAINT deal_terms_deal_fk FOREIGN KEY (deal_id) REFERENCES deals (id) ON DELETE CASCADE
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci;
-- split

CREATE TABLE deal_stage_log (
  id BIGINT NOT NULL AUTO_INCREMENT,
  team_id BIGINT NOT NULL,
  deal_id BIGINT NOT NULL,
  from_stage VARCHAR(32) NOT NULL,
  to_stage VARCHAR(32) NOT NULL,
  user_id BIGINT NOT NULL,
  at DATETIME(6) NOT NULL,
  PRIMARY KEY (id),
  KEY deal_stage_log_deal (deal_id, at, id),
  KEY deal_stage_log_team (team_id, at, to_stage, deal_id),
  CONSTRAINT deal_stage_log_team_fk FOREIGN KEY (team_id) REFERENCES teams (id) ON DELETE CASCADE,
  CONSTRAINT deal_stage_log_deal_fk FOREIGN KEY (deal_id) REFERENCES deals (id) ON DELETE CASCADE
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci;
-- split

CREATE TABLE notes (
  id BIGINT NOT NULL AUTO_INCREMENT,
  team_id BIGINT NOT NULL,
  contact_id BIGINT NOT NULL,
  author_id BIGINT NOT NULL,
  body TEXT NOT NULL,
  created_at DATETIME(6) NOT NULL,
  PRIMARY KEY (id),
  KEY notes_contact (contact_id, created_at, id),
  CONSTRAINT notes_contact_fk FOREIGN KEY (contact_id) REFERENCES contacts (id) ON DELETE CASCADE
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci;
-- split

CREATE TABLE activities (
  id BIGINT NOT NULL AUTO_INCREMENT,
  team_id BIGINT NOT NULL,
  contact_id BIGINT NOT NULL,
  user_id BIGINT NOT NULL,
  type VARCHAR(16) NOT NULL,
  description VARCHAR(500) NOT NULL DEFAULT '',
  at DATETIME(6) NOT NULL,
  PRIMARY KEY (id),
  KEY activities_contact (contact_id, at, id),
  KEY activities_team (team_id, at, user_id, type),
  CONSTRAINT activities_team_fk FOREIGN KEY (team_id) REFERENCES teams (id) ON DELETE CASCADE,
  CONSTRAINT activities_contact_fk FOREIGN KEY (contact_id) REFERENCES contacts (id) ON DELETE CASCADE
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci;
