-- verdict: safe
-- pg-version: 15
-- lock: SHARE ROW EXCLUSIVE
-- effect: catalog
-- reason: NOT VALID skips the scan: a brief SHARE ROW EXCLUSIVE for the catalog change.
ALTER TABLE orders ADD CONSTRAINT orders_customer_fk FOREIGN KEY (customer_id) REFERENCES customers (id) NOT VALID;
