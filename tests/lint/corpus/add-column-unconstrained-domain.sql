-- verdict: safe
-- pg-version: 15
-- lock: ACCESS EXCLUSIVE
-- effect: catalog
-- reason: A domain without constraints adds like its base type: catalog only.
ALTER TABLE orders ADD COLUMN label plain_label;
