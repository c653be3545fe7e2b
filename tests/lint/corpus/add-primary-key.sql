-- verdict: dangerous
-- rule: unique-without-index
-- pg-version: 15
-- lock: ACCESS EXCLUSIVE
-- effect: index-build
-- reason: ADD PRIMARY KEY builds the index under ACCESS EXCLUSIVE.
ALTER TABLE legacy_imports ADD PRIMARY KEY (ref);
