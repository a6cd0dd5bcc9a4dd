-- How many of an import's changes its undo has gone through (reverted or
-- kept): undo runs as a job, and the import page shows its progress.
ALTER TABLE imports ADD COLUMN undo_done INTEGER NOT NULL DEFAULT 0;
