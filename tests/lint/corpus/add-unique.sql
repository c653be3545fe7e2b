-- verdict: dangerous
-- rule: unique-without-index
-- pg-version: 15
-- lock: ACCESS EXCLUSIVE
-- effect: index-build
-- reason: ADD UNIQUE builds its index while holding ACCESS EXCLUSIVE.
ALTER TABLE customers ADD CONSTRAINT customers_email_key UNIQUE (email);
