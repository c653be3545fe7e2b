-- verdict: safe
-- pg-version: 15
-- lock: ACCESS EXCLUSIVE
-- effect: catalog
-- reason: A constant text default: catalog only on 11+.
ALTER TABLE orders ADD COLUMN channel text DEFAULT 'web';
