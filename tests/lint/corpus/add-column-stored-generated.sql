-- verdict: dangerous
-- rule: add-column-volatile-default
-- pg-version: 15
-- lock: ACCESS EXCLUSIVE
-- effect: rewrite
-- reason: A STORED generated column is computed and written for every row (PostgreSQL 12+).
ALTER TABLE orders ADD COLUMN total_cents bigint GENERATED ALWAYS AS ((total * 100)::bigint) STORED;
