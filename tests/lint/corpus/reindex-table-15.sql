-- verdict: dangerous
-- rule: require-concurrent-index
-- pg-version: 15
-- lock: SHARE
-- effect: index-build
-- reason: REINDEX TABLE holds SHARE on the table (writes blocked) and ACCESS EXCLUSIVE on each index while rebuilding (REINDEX docs).
REINDEX TABLE orders;
