-- The columns each user chose for a list table (contacts, deals): the keys
-- of the shown columns, comma separated. No row: the default columns.
CREATE TABLE list_columns (
  user_id BIGINT NOT NULL,
  list VARCHAR(20) NOT NULL,
  columns VARCHAR(500) NOT NULL,
  PRIMARY KEY (user_id, list),
  CONSTRAINT list_columns_user FOREIGN KEY (user_id) REFERENCES users (id) ON DELETE CASCADE
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci;
