-- verdict: safe
-- pg-version: 15
-- lock: SHARE ROW EXCLUSIVE
-- effect: catalog
-- reason: CREATE TRIGGER takes a brief SHARE ROW EXCLUSIVE: a catalog change.
CREATE FUNCTION touch_event() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN NEW.at := now(); RETURN NEW; END $$;
CREATE TRIGGER events_touch BEFORE UPDATE ON events FOR EACH ROW EXECUTE FUNCTION touch_event();
