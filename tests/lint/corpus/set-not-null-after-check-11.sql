-- verdict: dangerous
-- rule: set-not-null
-- pg-version: 11
-- lock: ACCESS EXCLUSIVE
-- effect: scan
-- reason: PostgreSQL 11 ignores the validated CHECK: SET NOT NULL still scans under ACCESS EXCLUSIVE.
ALTER TABLE orders ADD CONSTRAINT orders_customer_nn CHECK (customer_id IS NOT NULL) NOT VALID;
ALTER TABLE orders VALIDATE CONSTRAINT orders_customer_nn;
ALTER TABLE orders ALTER COLUMN customer_id SET NOT NULL;
