-- verdict: dangerous
-- rule: drop-table
-- pg-version: 15
-- lock: ACCESS EXCLUSIVE
-- effect: breaks-app
-- reason: DROP TABLE IF EXISTS legacy_imports: breaks whatever still reads it.
DROP TABLE IF EXISTS legacy_imports;
