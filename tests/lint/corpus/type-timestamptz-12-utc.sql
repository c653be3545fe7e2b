-- verdict: safe
-- pg-version: 12
-- lock: ACCESS EXCLUSIVE
-- effect: catalog
-- reason: PostgreSQL 12+: timestamp to timestamptz skips the rewrite when the session TimeZone is UTC.
SET TimeZone = 'UTC';
ALTER TABLE orders ALTER COLUMN placed_at TYPE timestamptz;
