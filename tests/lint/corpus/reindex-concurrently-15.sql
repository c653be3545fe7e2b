-- verdict: safe
-- pg-version: 15
-- lock: SHARE UPDATE EXCLUSIVE
-- effect: index-build
-- reason: REINDEX CONCURRENTLY (PostgreSQL 12+) rebuilds under SHARE UPDATE EXCLUSIVE.
REINDEX INDEX CONCURRENTLY orders_customer_idx;
