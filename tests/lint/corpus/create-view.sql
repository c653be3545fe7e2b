-- verdict: safe
-- pg-version: 15
-- lock: ACCESS SHARE
-- effect: none
-- reason: CREATE VIEW only reads the catalog of orders.
CREATE VIEW open_orders AS SELECT id, customer_id, total FROM orders WHERE shipped_at IS NULL;
