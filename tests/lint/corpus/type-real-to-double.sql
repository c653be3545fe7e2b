-- verdict: dangerous
-- rule: column-type-rewrite
-- pg-version: 15
-- lock: ACCESS EXCLUSIVE
-- effect: rewrite
-- reason: real to double precision changes the storage: rewrite.
ALTER TABLE orders ALTER COLUMN weight TYPE double precision;
