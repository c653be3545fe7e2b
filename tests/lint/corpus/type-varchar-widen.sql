-- verdict: safe
-- pg-version: 15
-- lock: ACCESS EXCLUSIVE
-- effect: catalog
-- reason: varchar(50) to varchar(100) is binary-coercible: no rewrite and no index rebuild.
ALTER TABLE orders ALTER COLUMN note TYPE varchar(100);
