-- verdict: dangerous
-- rule: set-not-null
-- pg-version: 15
-- lock: ACCESS EXCLUSIVE
-- effect: scan
-- reason: SET NOT NULL scans every row under ACCESS EXCLUSIVE when no validated CHECK proves it.
ALTER TABLE orders ALTER COLUMN customer_id SET NOT NULL;
