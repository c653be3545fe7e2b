-- verdict: safe
-- pg-version: 15
-- lock: SHARE UPDATE EXCLUSIVE
-- effect: none
-- reason: ANALYZE reads a sample under SHARE UPDATE EXCLUSIVE.
ANALYZE orders;
