-- verdict: safe
-- pg-version: 15
-- lock: SHARE UPDATE EXCLUSIVE
-- effect: index-build
-- reason: A unique index built CONCURRENTLY lets writes go on.
CREATE UNIQUE INDEX CONCURRENTLY customers_email_key_idx ON customers (email);
