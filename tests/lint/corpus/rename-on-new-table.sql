-- verdict: safe
-- pg-version: 15
-- lock: none
-- effect: catalog
-- reason: The table is new in this file: no running code uses its names.
CREATE TABLE drafts (id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY, body text);
ALTER TABLE drafts RENAME COLUMN body TO content;
ALTER TABLE drafts RENAME TO order_drafts;
