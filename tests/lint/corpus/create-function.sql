-- verdict: safe
-- pg-version: 15
-- lock: none
-- effect: none
-- reason: Creating a function locks no table.
CREATE FUNCTION order_total(o orders) RETURNS numeric LANGUAGE sql STABLE AS $$ SELECT o.total $$;
