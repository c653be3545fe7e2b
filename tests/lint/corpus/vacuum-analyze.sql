-- verdict: safe
-- pg-version: 15
-- lock: SHARE UPDATE EXCLUSIVE
-- effect: none
-- reason: Plain VACUUM takes SHARE UPDATE EXCLUSIVE: reads and writes go on.
VACUUM (ANALYZE) events;
