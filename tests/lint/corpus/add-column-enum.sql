-- verdict: safe
-- pg-version: 15
-- lock: ACCESS EXCLUSIVE
-- effect: catalog
-- reason: An enum column without a default: catalog only.
ALTER TABLE events ADD COLUMN status order_status;
