-- verdict: dangerous
-- rule: require-concurrent-index
-- pg-version: 15
-- lock: SHARE
-- effect: index-build
-- reason: A unique index built without CONCURRENTLY blocks writes for the whole build.
CREATE UNIQUE INDEX customers_email_key_idx ON customers (email);
