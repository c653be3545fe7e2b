-- verdict: safe
-- pg-version: 15
-- lock: ACCESS EXCLUSIVE
-- effect: scan
-- reason: The NOT VALID ADD is a brief ACCESS EXCLUSIVE catalog change; VALIDATE, in its own (autocommit) transaction, scans under SHARE UPDATE EXCLUSIVE: reads and writes go on.
ALTER TABLE orders ADD CONSTRAINT orders_total_positive CHECK (total >= 0) NOT VALID;
ALTER TABLE orders VALIDATE CONSTRAINT orders_total_positive;
