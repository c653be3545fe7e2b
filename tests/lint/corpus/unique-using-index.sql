-- verdict: safe
-- pg-version: 15
-- lock: ACCESS EXCLUSIVE
-- effect: catalog
-- reason: The unique index is built CONCURRENTLY; attaching it USING INDEX is a catalog change.
CREATE UNIQUE INDEX CONCURRENTLY customers_email_idx ON customers (email);
ALTER TABLE customers ADD CONSTRAINT customers_email_key UNIQUE USING INDEX customers_email_idx;
