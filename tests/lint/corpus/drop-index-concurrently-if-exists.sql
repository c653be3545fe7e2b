-- verdict: safe
-- pg-version: 15
-- lock: SHARE UPDATE EXCLUSIVE
-- effect: catalog
-- reason: DROP INDEX CONCURRENTLY IF EXISTS: no lock that blocks queries.
DROP INDEX CONCURRENTLY IF EXISTS orders_customer_idx;
