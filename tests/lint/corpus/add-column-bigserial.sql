-- verdict: dangerous
-- rule: add-column-volatile-default
-- pg-version: 15
-- lock: ACCESS EXCLUSIVE
-- effect: rewrite
-- reason: A serial column's default is nextval(), VOLATILE: every row is written.
ALTER TABLE legacy_imports ADD COLUMN seq bigserial;
