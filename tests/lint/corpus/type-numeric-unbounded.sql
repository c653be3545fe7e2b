-- verdict: safe
-- pg-version: 11
-- lock: ACCESS EXCLUSIVE
-- effect: catalog
-- reason: numeric(10,2) to numeric: no check, no rewrite.
ALTER TABLE orders ALTER COLUMN total TYPE numeric;
