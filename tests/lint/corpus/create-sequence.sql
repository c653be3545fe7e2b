-- verdict: safe
-- pg-version: 15
-- lock: none
-- effect: none
-- reason: A new sequence touches no table.
CREATE SEQUENCE invoice_numbers START 1000;
