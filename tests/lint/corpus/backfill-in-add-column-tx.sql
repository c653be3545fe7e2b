-- verdict: dangerous
-- rule: lock-held-during-scan
-- pg-version: 15
-- lock: ACCESS EXCLUSIVE
-- effect: scan
-- reason: The UPDATE of every row runs while the ADD COLUMN's ACCESS EXCLUSIVE is held: no read or write of orders until COMMIT.
BEGIN;
ALTER TABLE orders ADD COLUMN priority integer;
UPDATE orders SET priority = 0;
COMMIT;
