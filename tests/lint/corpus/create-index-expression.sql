-- verdict: dangerous
-- rule: require-concurrent-index
-- pg-version: 15
-- lock: SHARE
-- effect: index-build
-- reason: An expression index is built like any other: SHARE on the table for the whole build.
CREATE INDEX customers_lower_email_idx ON customers (lower(email));
