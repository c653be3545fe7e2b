-- verdict: safe
-- pg-version: 11
-- lock: none
-- effect: catalog
-- reason: Outside a transaction block ADD VALUE works on every version.
ALTER TYPE order_status ADD VALUE 'cancelled';
