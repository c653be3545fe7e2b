-- verdict: safe
-- pg-version: 11
-- lock: ACCESS EXCLUSIVE
-- effect: catalog
-- reason: PostgreSQL 11+: a constant default is stored in the catalog (atthasmissing), no rewrite.
ALTER TABLE orders ADD COLUMN priority integer DEFAULT 0;
