-- verdict: dangerous
-- rule: rename-column
-- pg-version: 15
-- lock: ACCESS EXCLUSIVE
-- effect: breaks-app
-- reason: Renaming email breaks every query of the running version that names it.
ALTER TABLE customers RENAME email TO email_address;
