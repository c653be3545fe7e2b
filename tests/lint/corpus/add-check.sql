-- verdict: dangerous
-- rule: constraint-without-not-valid
-- pg-version: 15
-- lock: ACCESS EXCLUSIVE
-- effect: scan
-- reason: ADD CHECK scans every row under ACCESS EXCLUSIVE.
ALTER TABLE orders ADD CONSTRAINT orders_total_positive CHECK (total >= 0);
