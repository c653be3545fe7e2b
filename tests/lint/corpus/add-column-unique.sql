-- verdict: dangerous
-- rule: unique-without-index
-- pg-version: 15
-- lock: ACCESS EXCLUSIVE
-- effect: index-build
-- reason: UNIQUE on ADD COLUMN builds a unique index while ACCESS EXCLUSIVE is held.
ALTER TABLE customers ADD COLUMN handle text UNIQUE;
