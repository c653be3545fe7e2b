-- verdict: dangerous
-- rule: require-concurrent-index
-- pg-version: 15
-- lock: SHARE
-- effect: index-build
-- reason: IF NOT EXISTS changes nothing about the lock: SHARE for the whole build.
CREATE INDEX IF NOT EXISTS events_kind_at_idx ON events (kind, at);
