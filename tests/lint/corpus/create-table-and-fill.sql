-- verdict: safe
-- pg-version: 15
-- lock: ACCESS SHARE
-- effect: none
-- reason: Filling a new table reads orders under ACCESS SHARE only.
CREATE TABLE customer_stats (customer_id bigint PRIMARY KEY, orders bigint NOT NULL);
INSERT INTO customer_stats SELECT customer_id, count(*) FROM orders WHERE customer_id IS NOT NULL GROUP BY customer_id;
