-- verdict: dangerous
-- rule: add-column-not-null-without-default
-- pg-version: 10
-- lock: ACCESS EXCLUSIVE
-- effect: fails
-- reason: Fails on any table with rows, in every version.
ALTER TABLE customers ADD COLUMN tier integer NOT NULL;
