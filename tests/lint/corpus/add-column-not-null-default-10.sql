-- verdict: dangerous
-- rule: add-column-volatile-default
-- pg-version: 10
-- lock: ACCESS EXCLUSIVE
-- effect: rewrite
-- reason: Before 11, NOT NULL DEFAULT false rewrites every row under ACCESS EXCLUSIVE.
ALTER TABLE customers ADD COLUMN vip boolean NOT NULL DEFAULT false;
