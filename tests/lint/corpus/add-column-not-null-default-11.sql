-- verdict: safe
-- pg-version: 11
-- lock: ACCESS EXCLUSIVE
-- effect: catalog
-- reason: PostgreSQL 11+: NOT NULL with a constant default needs neither rewrite nor scan.
ALTER TABLE customers ADD COLUMN vip boolean NOT NULL DEFAULT false;
