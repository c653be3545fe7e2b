-- verdict: safe
-- pg-version: 15
-- lock: ACCESS EXCLUSIVE
-- effect: catalog
-- reason: Dropping the varchar limit checks nothing: catalog only.
ALTER TABLE customers ALTER COLUMN email TYPE varchar;
