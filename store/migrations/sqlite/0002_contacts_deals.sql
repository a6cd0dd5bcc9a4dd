CREATE TABLE contacts (
  id INTEGER PRIMARY KEY AUTOINCREMENT,
  team_id INTEGER NOT NULL REFERENCES teams (id) ON DELETE CASCADE,
  name TEXT NOT NULL COLLATE NOCASE,
  email TEXT NOT NULL COLLATE NOCASE,
  phone TEXT NOT NULL DEFAULT '',
  phone_digits TEXT NOT NULL DEFAULT '',
  company TEXT NOT NULL DEFAULT '' COLLATE NOCASE,
  status TEXT NOT NULL DEFAULT 'New' COLLATE NOCASE,
  owner_id INTEGER NULL,
  version INTEGER NOT NULL DEFAULT 1,
  created_at TIMESTAMP NOT NULL,
  updated_at TIMESTAMP NOT NULL
);
-- split

CREATE UNIQUE INDEX contacts_email ON contacts (team_id, email);
-- split
CREATE INDEX contacts_name ON contacts (team_id, name, id);
-- split
CREATE INDEX contacts_phone ON contacts (team_id, phone_digits, id);
-- split
CREATE INDEX contacts_company ON contacts (team_id, company, id);
-- split
CREATE INDEX contacts_status ON contacts (team_id, status, id);
-- split
CREATE INDEX contacts_created ON contacts (team_id, created_at, id);
-- split
CREATE INDEX contacts_updated ON contacts (team_id, updated_at, id);
-- split
CREATE INDEX contacts_owner_name ON contacts (team_id, owner_id, name, id);
-- split
CREATE INDEX contacts_owner_email ON contacts (team_id, owner_id, email, id);
-- split
CREATE INDEX contacts_owner_phone ON contacts (team_id, owner_id, phone_digits, id);
-- split
CREATE INDEX contacts_owner_company ON contacts (team_id, owner_id, company, id);
-- split
CREATE INDEX contacts_owner_status ON contacts (team_id, owner_id, status, id);
-- split
CREATE INDEX contacts_owner_created ON contacts (team_id, owner_id, created_at, id);
-- split
CREATE INDEX contacts_owner_updated ON contacts (team_id, owner_id, updated_at, id);
-- split

CREATE TABLE contact_terms (
  team_id INTEGER NOT NULL,
  term TEXT NOT NULL,
  contact_id INTEGER NOT NULL REFERENCES contacts (id) ON DELETE CASCADE,
  PRIMARY KEY (team_id, term, contact_id)
) WITHOUT ROWID;
-- split

CREATE INDEX contact_terms_contact ON contact_terms (contact_id, term);
-- split

CREATE TABLE deals (
  id INTEGER PRIMARY KEY AUTOINCREMENT,
  team_id INTEGER NOT NULL REFERENCES teams (id) ON DELETE CASCADE,
  contact_id INTEGER NOT NULL REFERENCES contacts (id) ON DELETE CASCADE,
  name TEXT NOT NULL COLLATE NOCASE,
  stage TEXT NOT NULL,
  stage_rank INTEGER NOT NULL,
  goal INTEGER NOT NULL DEFAULT 0,
  amount INTEGER NOT NULL DEFAULT 0,
  close_date DATE NULL,
  owner_id INTEGER NULL,
  contact_name TEXT NOT NULL COLLATE NOCASE,
  company TEXT NOT NULL DEFAULT '' COLLATE NOCASE,
  version INTEGER NOT NULL DEFAULT 1,
  created_at TIMESTAMP NOT NULL,
  updated_at TIMESTAMP NOT NULL,
  closed_at TIMESTAMP NULL
);
-- split

CREATE INDEX deals_of_contact ON deals (contact_id, id);
-- split
CREATE INDEX deals_name ON deals (team_id, name, id);
-- split
CREATE INDEX deals_stage ON deals (team_id, stage_rank, id);
-- split
CREATE INDEX deals_goal ON deals (team_id, goal, id);
-- split
CREATE INDEX deals_amount ON deals (team_id, amount, id);
-- split
CREATE INDEX deals_close_date ON deals (team_id, close_date, id);
-- split
CREATE INDEX deals_contact ON deals (team_id, contact_name, id);
-- split
CREATE INDEX deals_company ON deals (team_id, company, id);
-- split
CREATE INDEX deals_created ON deals (team_id, created_at, id);
-- split
CREATE INDEX deals_updated ON deals (team_id, updated_at, id);
-- split
CREATE INDEX deals_owner_name ON deals (team_id, owner_id, name, id);
-- split
CREATE INDEX deals_owner_stage ON deals (team_id, owner_id, stage_rank, id);
-- split
CREATE INDEX deals_owner_goal ON deals (team_id, owner_id, goal, id);
-- split
CREATE INDEX deals_owner_amount ON deals (team_id, owner_id, amount, id);
-- split
CREATE INDEX deals_owner_close_date ON deals (team_id, owner_id, close_date, id);
-- split
CREATE INDEX deals_owner_contact ON deals (team_id, owner_id, contact_name, id);
-- split
CREATE INDEX deals_owner_company ON deals (team_id, owner_id, company, id);
-- split
CREATE INDEX deals_owner_created ON deals (team_id, owner_id, created_at, id);
-- split
CREATE INDEX deals_owner_updated ON deals (team_id, owner_id, updated_at, id);
-- split

CREATE TABLE deal_terms (
  team_id INTEGER NOT NULL,
  term TEXT NOT NULL,
  deal_id INTEGER NOT NULL REFERENCES deals (id) ON DELETE CASCADE,
  PRIMARY KEY (team_id, term, deal_id)
) WITHOUT ROWID;
-- split

CREATE INDEX deal_terms_deal ON deal_terms (deal_id, term);
-- split

CREATE TABLE deal_stage_log (
  id INTEGER PRIMARY KEY AUTOINCREMENT,
  team_id INTEGER NOT NULL REFERENCES teams (id) ON DELETE CASCADE,
  deal_id INTEGER NOT NULL REFERENCES deals (id) ON DELETE CASCADE,
  from_stage TEXT NOT NULL,
  to_stage TEXT NOT NULL,
  user_id INTEGER NOT NULL,
  at TIMESTAMP NOT NULL
);
-- split

CREATE INDEX deal_stage_log_deal ON deal_stage_log (deal_id, at, id);
-- split
CREATE INDEX deal_stage_log_team ON deal_stage_log (team_id, at, to_stage, deal_id);
-- split

CREATE TABLE notes (
  id INTEGER PRIMARY KEY AUTOINCREMENT,
  team_id INTEGER NOT NULL,
  contact_id INTEGER NOT NULL REFERENCES contacts (id) ON DELETE CASCADE,
  author_id INTEGER NOT NULL,
  body TEXT NOT NULL,
  created_at TIMESTAMP NOT NULL
);
-- split

CREATE INDEX notes_contact ON notes (contact_id, created_at, id);
-- split

CREATE TABLE activities (
  id INTEGER PRIMARY KEY AUTOINCREMENT,
  team_id INTEGER NOT NULL REFERENCES teams (id) ON DELETE CASCADE,
  contact_id INTEGER NOT NULL REFERENCES contacts (id) ON DELETE CASCADE,
  user_id INTEGER NOT NULL,
  type TEXT NOT NULL,
  description TEXT NOT NULL DEFAULT '',
  at TIMESTAMP NOT NULL
);
-- split

CREATE INDEX activities_contact ON activities (contact_id, at, id);
-- split
CREATE INDEX activities_team ON activities (team_id, at, user_id, type);
