-- verdict: safe
-- pg-version: 15
-- lock: ACCESS EXCLUSIVE
-- effect: catalog
-- reason: DROP DEFAULT: catalog change.
ALTER TABLE orders ALTER COLUMN total DROP DEFAULT;
