-- verdict: dangerous
-- rule: drop-table
-- pg-version: 15
-- lock: ACCESS EXCLUSIVE
-- effect: breaks-app
-- reason: The running version still uses bookings; the rows are gone.
DROP TABLE bookings;
