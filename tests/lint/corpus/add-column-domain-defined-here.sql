-- verdict: dangerous
-- rule: add-column-constrained-domain
-- pg-version: 15
-- lock: ACCESS EXCLUSIVE
-- effect: rewrite
-- reason: The domain created in the same file has a CHECK: adding a column of it rewrites events.
CREATE DOMAIN percent AS numeric CHECK (VALUE BETWEEN 0 AND 100);
ALTER TABLE events ADD COLUMN score percent;
