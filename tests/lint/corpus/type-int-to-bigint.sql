-- verdict: dangerous
-- rule: column-type-rewrite
-- pg-version: 15
-- lock: ACCESS EXCLUSIVE
-- effect: rewrite
-- reason: integer to bigint is not binary-coercible: rewrite of orders and its indexes.
ALTER TABLE orders ALTER COLUMN quantity TYPE bigint;
