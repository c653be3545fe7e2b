-- verdict: safe
-- pg-version: 15
-- lock: ACCESS EXCLUSIVE
-- effect: catalog
-- reason: A nullable column without a default is a catalog change.
ALTER TABLE orders ADD COLUMN gift_message text;
