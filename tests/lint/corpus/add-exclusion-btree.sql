-- verdict: dangerous
-- rule: add-exclusion-constraint
-- pg-version: 15
-- lock: ACCESS EXCLUSIVE
-- effect: index-build
-- reason: A btree EXCLUDE is built under ACCESS EXCLUSIVE as well.
ALTER TABLE customers ADD CONSTRAINT customers_one_email EXCLUDE USING btree (email WITH =);
