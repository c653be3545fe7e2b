-- verdict: dangerous
-- rule: add-column-volatile-default
-- pg-version: 10
-- lock: ACCESS EXCLUSIVE
-- effect: rewrite
-- reason: Before 11 even a STABLE default like now() is written into every row.
ALTER TABLE events ADD COLUMN imported_at timestamptz DEFAULT now();
