-- verdict: safe
-- pg-version: 15
-- lock: none
-- effect: index-build
-- reason: An index on a table created in the same file builds on an empty table.
CREATE TABLE tags (id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY, name text NOT NULL);
CREATE UNIQUE INDEX tags_name_idx ON tags (name);
