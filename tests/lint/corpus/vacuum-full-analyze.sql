-- verdict: dangerous
-- rule: vacuum-full
-- pg-version: 15
-- lock: ACCESS EXCLUSIVE
-- effect: rewrite
-- reason: VACUUM (FULL, ANALYZE) rewrites the same way.
VACUUM (FULL, ANALYZE) orders;
