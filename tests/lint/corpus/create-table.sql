-- verdict: safe
-- pg-version: 15
-- lock: none
-- effect: none
-- reason: A new table locks nothing anyone uses.
CREATE TABLE shipments (
  id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  order_id bigint NOT NULL,
  carrier text NOT NULL,
  sent_at timestamptz
);
