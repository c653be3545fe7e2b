-- verdict: dangerous
-- rule: vacuum-full
-- pg-version: 15
-- lock: ACCESS EXCLUSIVE
-- effect: rewrite
-- reason: VACUUM FULL copies the table under ACCESS EXCLUSIVE.
VACUUM FULL events;
