-- verdict: dangerous
-- rule: add-column-constrained-domain
-- pg-version: 15
-- lock: ACCESS EXCLUSIVE
-- effect: rewrite
-- reason: positive_int has a CHECK: PostgreSQL evaluates it for every existing row by rewriting the table (ALTER TABLE notes: a domain data type with constraints).
ALTER TABLE orders ADD COLUMN points positive_int;
