-- verdict: dangerous
-- rule: lock-table
-- pg-version: 15
-- lock: ACCESS EXCLUSIVE
-- effect: none
-- reason: LOCK TABLE defaults to ACCESS EXCLUSIVE: every query waits until COMMIT.
BEGIN;
LOCK TABLE orders;
UPDATE orders SET note = 'x' WHERE id = 1;
COMMIT;
