-- verdict: dangerous
-- rule: column-type-rewrite
-- pg-version: 15
-- lock: ACCESS EXCLUSIVE
-- effect: rewrite
-- reason: A lower numeric precision checks every value: rewrite.
ALTER TABLE orders ALTER COLUMN total TYPE numeric(8,2);
