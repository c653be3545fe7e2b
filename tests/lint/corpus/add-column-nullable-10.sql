-- verdict: safe
-- pg-version: 10
-- lock: ACCESS EXCLUSIVE
-- effect: catalog
-- reason: Without a default, ADD COLUMN has always been catalog-only.
ALTER TABLE orders ADD COLUMN gift_message text;
