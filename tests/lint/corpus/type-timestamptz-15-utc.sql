-- verdict: safe
-- pg-version: 15
-- lock: ACCESS EXCLUSIVE
-- effect: catalog
-- reason: As on 12: in UTC the stored values already mean the same instants; no rewrite.
SET TimeZone = 'UTC';
ALTER TABLE orders ALTER COLUMN placed_at TYPE timestamptz;
