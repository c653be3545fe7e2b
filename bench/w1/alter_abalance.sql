ALTER TABLE pgbench_accounts ALTER COLUMN abalance TYPE bigint;
