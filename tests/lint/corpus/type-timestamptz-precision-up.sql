-- verdict: safe
-- pg-version: 15
-- lock: ACCESS EXCLUSIVE
-- effect: catalog
-- reason: timestamptz(3) to timestamptz(6): a higher precision keeps every stored value.
ALTER TABLE orders ALTER COLUMN shipped_at TYPE timestamptz(6);
