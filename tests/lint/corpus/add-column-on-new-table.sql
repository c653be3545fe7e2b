-- verdict: safe
-- pg-version: 15
-- lock: none
-- effect: catalog
-- reason: The table is created in the same file: nobody uses it yet.
CREATE TABLE coupons (id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY, code text NOT NULL);
ALTER TABLE coupons ADD COLUMN token uuid DEFAULT gen_random_uuid();
ALTER TABLE coupons ADD COLUMN owner bigint NOT NULL;
