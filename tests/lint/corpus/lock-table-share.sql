-- verdict: dangerous
-- rule: lock-table
-- pg-version: 15
-- lock: SHARE
-- effect: none
-- reason: SHARE mode blocks every write until COMMIT.
BEGIN;
LOCK TABLE customers IN SHARE MODE;
SELECT count(*) FROM customers;
COMMIT;
