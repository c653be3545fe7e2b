-- verdict: safe
-- pg-version: 15
-- lock: none
-- effect: catalog
-- reason: ADD VALUE inside a transaction is fine on 15.
BEGIN;
ALTER TYPE order_status ADD VALUE 'refunded';
COMMIT;
