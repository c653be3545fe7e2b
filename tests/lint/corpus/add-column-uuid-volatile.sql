-- verdict: dangerous
-- rule: add-column-volatile-default
-- pg-version: 15
-- lock: ACCESS EXCLUSIVE
-- effect: rewrite
-- reason: gen_random_uuid() is VOLATILE: existing rows get their values by a rewrite under ACCESS EXCLUSIVE (ALTER TABLE notes).
ALTER TABLE orders ADD COLUMN token uuid DEFAULT gen_random_uuid();
