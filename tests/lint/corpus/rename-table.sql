-- verdict: dangerous
-- rule: rename-table
-- pg-version: 15
-- lock: ACCESS EXCLUSIVE
-- effect: breaks-app
-- reason: The running application still queries events.
ALTER TABLE events RENAME TO audit_events;
