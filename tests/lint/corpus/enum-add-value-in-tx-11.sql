-- verdict: dangerous
-- rule: enum-add-value-in-transaction
-- pg-version: 11
-- lock: none
-- effect: fails
-- reason: Before 12, ALTER TYPE ... ADD VALUE cannot run inside a transaction block.
BEGIN;
ALTER TYPE order_status ADD VALUE 'refunded';
COMMIT;
