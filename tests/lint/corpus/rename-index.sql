-- verdict: safe
-- pg-version: 15
-- lock: none
-- effect: catalog
-- reason: Queries do not name indexes; ALTER INDEX RENAME takes SHARE UPDATE EXCLUSIVE on the index only (PostgreSQL 12+), none on the table.
ALTER INDEX orders_note_idx RENAME TO orders_note_lookup_idx;
