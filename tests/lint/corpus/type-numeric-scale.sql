-- verdict: dangerous
-- rule: column-type-rewrite
-- pg-version: 15
-- lock: ACCESS EXCLUSIVE
-- effect: rewrite
-- reason: A different numeric scale changes the stored digits: rewrite.
ALTER TABLE orders ALTER COLUMN total TYPE numeric(12,3);
