-- verdict: safe
-- pg-version: 15
-- lock: SHARE UPDATE EXCLUSIVE
-- effect: catalog
-- reason: SET STATISTICS takes SHARE UPDATE EXCLUSIVE.
ALTER TABLE orders ALTER COLUMN customer_id SET STATISTICS 500;
