-- verdict: safe
-- pg-version: 15
-- lock: ACCESS EXCLUSIVE
-- effect: catalog
-- reason: text to unbounded varchar is binary-coercible.
ALTER TABLE customers ALTER COLUMN name TYPE varchar;
