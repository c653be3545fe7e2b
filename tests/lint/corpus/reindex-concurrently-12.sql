-- verdict: safe
-- pg-version: 12
-- lock: SHARE UPDATE EXCLUSIVE
-- effect: index-build
-- reason: PostgreSQL 12 added REINDEX CONCURRENTLY: reads and writes go on.
REINDEX TABLE CONCURRENTLY orders;
