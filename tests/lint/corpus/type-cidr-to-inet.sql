-- verdict: safe
-- pg-version: 15
-- lock: ACCESS EXCLUSIVE
-- effect: catalog
-- reason: cidr to inet is binary-coercible.
ALTER TABLE orders ALTER COLUMN ip TYPE inet;
