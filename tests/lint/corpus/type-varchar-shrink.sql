-- verdict: dangerous
-- rule: column-type-rewrite
-- pg-version: 15
-- lock: ACCESS EXCLUSIVE
-- effect: rewrite
-- reason: A shorter varchar checks and rewrites every row.
ALTER TABLE orders ALTER COLUMN note TYPE varchar(20);
