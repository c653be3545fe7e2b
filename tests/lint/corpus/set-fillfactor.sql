-- verdict: safe
-- pg-version: 15
-- lock: SHARE UPDATE EXCLUSIVE
-- effect: catalog
-- reason: Storage parameters such as fillfactor take SHARE UPDATE EXCLUSIVE.
ALTER TABLE events SET (fillfactor = 90);
