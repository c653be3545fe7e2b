-- verdict: dangerous
-- rule: column-type-rewrite
-- pg-version: 15
-- lock: ACCESS EXCLUSIVE
-- effect: rewrite
-- reason: text to varchar(n) applies a length check to every row: rewrite.
ALTER TABLE customers ALTER COLUMN name TYPE varchar(100);
