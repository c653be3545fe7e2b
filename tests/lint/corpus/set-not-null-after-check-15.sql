-- verdict: safe
-- pg-version: 15
-- lock: ACCESS EXCLUSIVE
-- effect: catalog
-- reason: The same on 15: the validated CHECK proves it, no scan.
ALTER TABLE customers ADD CONSTRAINT customers_name_nn CHECK (name IS NOT NULL) NOT VALID;
ALTER TABLE customers VALIDATE CONSTRAINT customers_name_nn;
ALTER TABLE customers ALTER COLUMN name SET NOT NULL;
ALTER TABLE customers DROP CONSTRAINT customers_name_nn;
