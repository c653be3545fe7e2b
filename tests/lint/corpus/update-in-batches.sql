-- verdict: safe
-- pg-version: 15
-- lock: ROW EXCLUSIVE
-- effect: none
-- reason: Each batch UPDATE commits on its own and touches a bounded key range.
UPDATE orders SET note = 'legacy' WHERE id BETWEEN 1 AND 500 AND note IS NULL;
UPDATE orders SET note = 'legacy' WHERE id BETWEEN 501 AND 1000 AND note IS NULL;
