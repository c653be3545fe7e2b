-- verdict: safe
-- pg-version: 15
-- lock: ACCESS EXCLUSIVE
-- effect: catalog
-- reason: DROP NOT NULL only relaxes a rule: catalog change.
ALTER TABLE customers ALTER COLUMN email DROP NOT NULL;
