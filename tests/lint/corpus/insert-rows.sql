-- verdict: safe
-- pg-version: 15
-- lock: ROW EXCLUSIVE
-- effect: none
-- reason: INSERT takes ROW EXCLUSIVE, like the application does.
INSERT INTO events (kind, payload) VALUES ('migration', '{"step": 1}');
