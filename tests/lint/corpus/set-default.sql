-- verdict: safe
-- pg-version: 15
-- lock: ACCESS EXCLUSIVE
-- effect: catalog
-- reason: SET DEFAULT affects new rows only: catalog change.
ALTER TABLE orders ALTER COLUMN note SET DEFAULT 'none';
