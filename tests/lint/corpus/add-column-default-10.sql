-- verdict: dangerous
-- rule: add-column-volatile-default
-- pg-version: 10
-- lock: ACCESS EXCLUSIVE
-- effect: rewrite
-- reason: Before PostgreSQL 11 any non-NULL default is written into every row.
ALTER TABLE orders ADD COLUMN priority integer DEFAULT 0;
