-- verdict: safe
-- pg-version: 15
-- lock: ACCESS EXCLUSIVE
-- effect: catalog
-- reason: ref is already NOT NULL: PRIMARY KEY USING INDEX only changes the catalog.
CREATE UNIQUE INDEX CONCURRENTLY legacy_imports_ref_idx ON legacy_imports (ref);
ALTER TABLE legacy_imports ADD CONSTRAINT legacy_imports_pkey PRIMARY KEY USING INDEX legacy_imports_ref_idx;
