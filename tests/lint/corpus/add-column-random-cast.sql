-- verdict: dangerous
-- rule: add-column-volatile-default
-- pg-version: 15
-- lock: ACCESS EXCLUSIVE
-- effect: rewrite
-- reason: random() inside a cast is still VOLATILE: rewrite.
ALTER TABLE customers ADD COLUMN bucket integer DEFAULT (random() * 100)::integer;
