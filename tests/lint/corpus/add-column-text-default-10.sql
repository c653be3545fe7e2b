-- verdict: dangerous
-- rule: add-column-volatile-default
-- pg-version: 10
-- lock: ACCESS EXCLUSIVE
-- effect: rewrite
-- reason: Before 11, DEFAULT 'web' rewrites the table.
ALTER TABLE orders ADD COLUMN channel text DEFAULT 'web';
