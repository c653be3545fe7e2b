-- verdict: safe
-- pg-version: 11
-- lock: ACCESS EXCLUSIVE
-- effect: catalog
-- reason: now() is STABLE: evaluated once at ALTER time and stored in the catalog (PostgreSQL 11+).
ALTER TABLE events ADD COLUMN imported_at timestamptz DEFAULT now();
