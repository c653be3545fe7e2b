-- verdict: dangerous
-- rule: column-type-rewrite
-- pg-version: 15
-- lock: ACCESS EXCLUSIVE
-- effect: rewrite
-- reason: char(n) values are blank-padded to n: a longer char rewrites every row (only varchar has the length-increase shortcut).
ALTER TABLE orders ALTER COLUMN code TYPE char(12);
