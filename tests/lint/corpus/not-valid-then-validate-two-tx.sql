-- verdict: safe
-- pg-version: 15
-- lock: SHARE ROW EXCLUSIVE
-- effect: scan
-- reason: NOT VALID commits first; VALIDATE runs in its own transaction under SHARE UPDATE EXCLUSIVE.
BEGIN;
ALTER TABLE orders ADD CONSTRAINT orders_customer_fk FOREIGN KEY (customer_id) REFERENCES customers (id) NOT VALID;
COMMIT;
BEGIN;
ALTER TABLE orders VALIDATE CONSTRAINT orders_customer_fk;
COMMIT;
