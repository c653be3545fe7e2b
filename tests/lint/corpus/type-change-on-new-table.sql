-- verdict: safe
-- pg-version: 15
-- lock: none
-- effect: catalog
-- reason: The table is created in the same file.
CREATE TABLE refunds (id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY, amount integer);
ALTER TABLE refunds ALTER COLUMN amount TYPE numeric(12,2);
