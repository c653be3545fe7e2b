-- verdict: safe
-- pg-version: 15
-- lock: ACCESS EXCLUSIVE
-- effect: catalog
-- reason: NOT NULL DEFAULT 0 on 15: catalog only.
ALTER TABLE orders ADD COLUMN priority integer NOT NULL DEFAULT 0;
