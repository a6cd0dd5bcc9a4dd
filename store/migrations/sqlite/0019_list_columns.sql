-- The columns each user chose for a list table: see the MySQL migration of
-- the same number.
CREATE TABLE list_columns (
  user_id INTEGER NOT NULL REFERENCES users (id) ON DELETE CASCADE,
  list TEXT NOT NULL,
  columns TEXT NOT NULL,
  PRIMARY KEY (user_id, list)
);
