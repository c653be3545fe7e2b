-- verdict: dangerous
-- rule: add-column-not-null-without-default
-- pg-version: 15
-- lock: ACCESS EXCLUSIVE
-- effect: fails
-- reason: Existing rows would hold NULL: ERROR column contains null values on any non-empty table.
ALTER TABLE orders ADD COLUMN region text NOT NULL;
