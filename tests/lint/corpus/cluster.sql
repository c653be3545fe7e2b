-- verdict: dangerous
-- rule: cluster
-- pg-version: 15
-- lock: ACCESS EXCLUSIVE
-- effect: rewrite
-- reason: CLUSTER rewrites the table in index order under ACCESS EXCLUSIVE.
CLUSTER orders USING orders_customer_idx;
