-- verdict: safe
-- pg-version: 12
-- lock: ACCESS EXCLUSIVE
-- effect: catalog
-- reason: PostgreSQL 12+: a validated CHECK (col IS NOT NULL) lets SET NOT NULL skip the scan.
ALTER TABLE orders ADD CONSTRAINT orders_customer_nn CHECK (customer_id IS NOT NULL) NOT VALID;
ALTER TABLE orders VALIDATE CONSTRAINT orders_customer_nn;
ALTER TABLE orders ALTER COLUMN customer_id SET NOT NULL;
