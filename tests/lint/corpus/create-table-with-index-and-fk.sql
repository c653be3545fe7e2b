-- verdict: safe
-- pg-version: 15
-- lock: SHARE ROW EXCLUSIVE
-- effect: catalog
-- reason: Indexes on a new table cost nothing; its foreign key takes a brief SHARE ROW EXCLUSIVE on customers with nothing to scan.
CREATE TABLE invoices (
  id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  customer_id bigint NOT NULL REFERENCES customers (id),
  issued_at timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX invoices_customer_idx ON invoices (customer_id);
