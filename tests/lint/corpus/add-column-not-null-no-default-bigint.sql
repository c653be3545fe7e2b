-- verdict: dangerous
-- rule: add-column-not-null-without-default
-- pg-version: 15
-- lock: ACCESS EXCLUSIVE
-- effect: fails
-- reason: NOT NULL without DEFAULT on events, which has rows: the ALTER fails.
ALTER TABLE events ADD COLUMN tenant_id bigint NOT NULL;
