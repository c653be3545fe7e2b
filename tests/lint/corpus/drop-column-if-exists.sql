-- verdict: dangerous
-- rule: drop-column
-- pg-version: 15
-- lock: ACCESS EXCLUSIVE
-- effect: breaks-app
-- reason: IF EXISTS does not make the drop safe for running code.
ALTER TABLE customers DROP COLUMN IF EXISTS team_id;
