-- verdict: safe
-- pg-version: 15
-- lock: none
-- effect: catalog
-- reason: GRANT changes the ACL only.
CREATE ROLE corpus_reporting;
GRANT SELECT ON orders TO corpus_reporting;
