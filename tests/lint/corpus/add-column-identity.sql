-- verdict: dangerous
-- rule: add-column-volatile-default
-- pg-version: 15
-- lock: ACCESS EXCLUSIVE
-- effect: rewrite
-- reason: An identity column fills existing rows from its sequence: rewrite.
ALTER TABLE legacy_imports ADD COLUMN id bigint GENERATED ALWAYS AS IDENTITY;
