-- verdict: dangerous
-- rule: lock-held-during-scan
-- pg-version: 15
-- lock: SHARE ROW EXCLUSIVE
-- effect: scan
-- reason: The foreign key's SHARE ROW EXCLUSIVE on orders and customers is held across the validating scan: writes blocked.
BEGIN;
ALTER TABLE orders ADD CONSTRAINT orders_customer_fk FOREIGN KEY (customer_id) REFERENCES customers (id) NOT VALID;
ALTER TABLE orders VALIDATE CONSTRAINT orders_customer_fk;
COMMIT;
