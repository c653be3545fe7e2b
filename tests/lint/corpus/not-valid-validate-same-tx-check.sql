-- verdict: dangerous
-- rule: lock-held-during-scan
-- pg-version: 15
-- lock: ACCESS EXCLUSIVE
-- effect: scan
-- reason: The ADD CHECK NOT VALID's ACCESS EXCLUSIVE is held until COMMIT, so the VALIDATE scan runs under it.
BEGIN;
ALTER TABLE orders ADD CONSTRAINT orders_total_positive CHECK (total >= 0) NOT VALID;
ALTER TABLE orders VALIDATE CONSTRAINT orders_total_positive;
COMMIT;
