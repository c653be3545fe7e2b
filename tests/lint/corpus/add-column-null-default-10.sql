-- verdict: safe
-- pg-version: 10
-- lock: ACCESS EXCLUSIVE
-- effect: catalog
-- reason: DEFAULT NULL is no default at all: catalog only, even before 11.
ALTER TABLE orders ADD COLUMN gift_message text DEFAULT NULL;
