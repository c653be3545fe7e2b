-- verdict: dangerous
-- rule: constraint-without-not-valid
-- pg-version: 15
-- lock: ACCESS EXCLUSIVE
-- effect: scan
-- reason: An unnamed CHECK scans the same way.
ALTER TABLE events ADD CHECK (kind <> '');
