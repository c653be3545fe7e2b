-- verdict: dangerous
-- rule: drop-column
-- pg-version: 15
-- lock: ACCESS EXCLUSIVE
-- effect: breaks-app
-- reason: The running version still reads or writes note (ORMs list every column): it fails.
ALTER TABLE orders DROP COLUMN note;
