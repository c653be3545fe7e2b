-- verdict: dangerous
-- rule: column-type-rewrite
-- pg-version: 15
-- lock: ACCESS EXCLUSIVE
-- effect: rewrite
-- reason: json and jsonb are stored differently: rewrite.
ALTER TABLE orders ALTER COLUMN payload TYPE jsonb;
