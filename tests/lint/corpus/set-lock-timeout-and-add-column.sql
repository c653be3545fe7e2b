-- verdict: safe
-- pg-version: 15
-- lock: ACCESS EXCLUSIVE
-- effect: catalog
-- reason: A bounded wait and a catalog-only change.
SET lock_timeout = '2s';
ALTER TABLE customers ADD COLUMN nickname text;
