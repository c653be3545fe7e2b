-- verdict: dangerous
-- rule: require-concurrent-index
-- pg-version: 15
-- lock: ACCESS EXCLUSIVE
-- effect: catalog
-- reason: DROP INDEX takes ACCESS EXCLUSIVE on the index's table and waits behind every running query on it (DROP INDEX docs: CONCURRENTLY avoids it).
DROP INDEX orders_note_idx;
