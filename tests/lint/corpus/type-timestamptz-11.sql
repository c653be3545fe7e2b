-- verdict: dangerous
-- rule: column-type-rewrite
-- pg-version: 11
-- lock: ACCESS EXCLUSIVE
-- effect: rewrite
-- reason: Before PostgreSQL 12 timestamp to timestamptz always rewrites, whatever the TimeZone.
SET TimeZone = 'UTC';
ALTER TABLE orders ALTER COLUMN placed_at TYPE timestamptz;
