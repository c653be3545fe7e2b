-- verdict: safe
-- pg-version: 10
-- lock: ACCESS EXCLUSIVE
-- effect: catalog
-- reason: Longer varchar has been catalog-only since 9.2.
ALTER TABLE customers ALTER COLUMN email TYPE varchar(255);
