-- verdict: dangerous
-- rule: column-type-rewrite
-- pg-version: 15
-- lock: ACCESS EXCLUSIVE
-- effect: rewrite
-- reason: A cast with USING rewrites every row.
ALTER TABLE events ALTER COLUMN kind TYPE integer USING length(kind);
