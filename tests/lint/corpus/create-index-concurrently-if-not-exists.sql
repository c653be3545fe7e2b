-- verdict: safe
-- pg-version: 15
-- lock: SHARE UPDATE EXCLUSIVE
-- effect: index-build
-- reason: CONCURRENTLY with IF NOT EXISTS: SHARE UPDATE EXCLUSIVE.
CREATE INDEX CONCURRENTLY IF NOT EXISTS events_kind_at_idx ON events (kind, at);
