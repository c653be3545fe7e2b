-- verdict: safe
-- pg-version: 15
-- lock: SHARE UPDATE EXCLUSIVE
-- effect: catalog
-- reason: DROP INDEX CONCURRENTLY waits for running transactions without blocking new ones.
DROP INDEX CONCURRENTLY orders_note_idx;
