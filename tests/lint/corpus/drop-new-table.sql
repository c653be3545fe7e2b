-- verdict: safe
-- pg-version: 15
-- lock: none
-- effect: catalog
-- reason: A table created and dropped in the same file was never used.
CREATE TABLE scratch (id bigint PRIMARY KEY);
DROP TABLE scratch;
