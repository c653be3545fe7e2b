-- verdict: dangerous
-- rule: rename-column
-- pg-version: 15
-- lock: ACCESS EXCLUSIVE
-- effect: breaks-app
-- reason: The running application still names note: its queries fail from the commit on.
ALTER TABLE orders RENAME COLUMN note TO comment;
