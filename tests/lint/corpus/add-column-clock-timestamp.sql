-- verdict: dangerous
-- rule: add-column-volatile-default
-- pg-version: 15
-- lock: ACCESS EXCLUSIVE
-- effect: rewrite
-- reason: clock_timestamp() is VOLATILE (the ALTER TABLE docs' own example): rewrite.
ALTER TABLE events ADD COLUMN seen_at timestamptz DEFAULT clock_timestamp();
