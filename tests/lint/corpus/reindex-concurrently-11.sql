-- verdict: dangerous
-- rule: require-concurrent-index
-- pg-version: 11
-- lock: none
-- effect: fails
-- reason: REINDEX CONCURRENTLY exists from PostgreSQL 12; on 11 it is a syntax error.
REINDEX INDEX CONCURRENTLY orders_customer_idx;
