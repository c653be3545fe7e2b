-- verdict: safe
-- pg-version: 12
-- lock: none
-- effect: catalog
-- reason: PostgreSQL 12+ allows ADD VALUE in a transaction (the value is usable after COMMIT).
BEGIN;
ALTER TYPE order_status ADD VALUE 'refunded';
COMMIT;
