-- verdict: safe
-- pg-version: 15
-- lock: ACCESS EXCLUSIVE
-- effect: catalog
-- reason: numeric(10,2) to numeric(12,2): same scale, higher precision, binary-coercible.
ALTER TABLE orders ALTER COLUMN total TYPE numeric(12,2);
