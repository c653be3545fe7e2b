-- verdict: dangerous
-- rule: add-column-constrained-domain
-- pg-version: 15
-- lock: ACCESS EXCLUSIVE
-- effect: rewrite
-- reason: A constant default does not help: the domain's CHECK is evaluated per row in a rewrite.
ALTER TABLE customers ADD COLUMN credits positive_int DEFAULT 1;
