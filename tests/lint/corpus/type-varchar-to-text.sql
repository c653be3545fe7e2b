-- verdict: safe
-- pg-version: 15
-- lock: ACCESS EXCLUSIVE
-- effect: catalog
-- reason: varchar to text is binary-coercible: catalog only.
ALTER TABLE orders ALTER COLUMN note TYPE text;
