-- verdict: safe
-- pg-version: 15
-- lock: ACCESS EXCLUSIVE
-- effect: catalog
-- reason: A constant jsonb default: catalog only on 11+.
ALTER TABLE events ADD COLUMN meta jsonb NOT NULL DEFAULT '{}';
