-- verdict: safe
-- pg-version: 15
-- lock: ROW EXCLUSIVE
-- effect: none
-- reason: ROW EXCLUSIVE is what every UPDATE takes: it blocks no read or write.
BEGIN;
LOCK TABLE orders IN ROW EXCLUSIVE MODE;
UPDATE orders SET note = 'x' WHERE id = 1;
COMMIT;
