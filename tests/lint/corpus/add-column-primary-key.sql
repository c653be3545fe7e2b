-- verdict: dangerous
-- rule: add-column-not-null-without-default
-- pg-version: 15
-- lock: ACCESS EXCLUSIVE
-- effect: fails
-- reason: A PRIMARY KEY column is NOT NULL and has no value for existing rows: fails (and would build its index under ACCESS EXCLUSIVE).
ALTER TABLE legacy_imports ADD COLUMN id bigint PRIMARY KEY;
