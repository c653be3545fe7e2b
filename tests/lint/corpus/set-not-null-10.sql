-- verdict: dangerous
-- rule: set-not-null
-- pg-version: 10
-- lock: ACCESS EXCLUSIVE
-- effect: scan
-- reason: Before 12, SET NOT NULL always scans under ACCESS EXCLUSIVE.
ALTER TABLE customers ALTER COLUMN name SET NOT NULL;
