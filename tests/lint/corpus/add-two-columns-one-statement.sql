-- verdict: safe
-- pg-version: 15
-- lock: ACCESS EXCLUSIVE
-- effect: catalog
-- reason: Two nullable columns in one ALTER: one catalog change.
ALTER TABLE orders ADD COLUMN coupon text, ADD COLUMN discount numeric(10,2);
