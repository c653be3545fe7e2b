-- verdict: dangerous
-- rule: constraint-without-not-valid
-- pg-version: 15
-- lock: SHARE ROW EXCLUSIVE
-- effect: scan
-- reason: ADD FOREIGN KEY checks every row under SHARE ROW EXCLUSIVE on both tables: writes blocked.
ALTER TABLE orders ADD CONSTRAINT orders_customer_fk FOREIGN KEY (customer_id) REFERENCES customers (id);
