// Install: the flags tables, their triggers and the SQL functions, in schema zerodown.
#include <fmt/format.h>

#include "zerodown/flags/store.hpp"
#include "zerodown/pg/lock_retry.hpp"

namespace zerodown::flags {

namespace {

// Bumped whenever the SQL below changes, so that the next `flag set` of a newer zerodown replaces
// the functions and triggers of an older one. Stored as the comment on zerodown.flag_enabled.
constexpr std::string_view kInstalledMarker = "zerodown flags 1";

// Tables and triggers. The history and the NOTIFY are written by triggers, not by the CLI, so a
// flag changed with plain SQL is recorded and announced as well. Who changed it: current_user,
// and the note of the transaction-local setting zerodown.flag_note (the CLI's --by).
constexpr std::string_view kTablesSql = R"sql(
CREATE SCHEMA IF NOT EXISTS zerodown;
CREATE TABLE IF NOT EXISTS zerodown.flags (
  name text PRIMARY KEY CHECK (name ~ '^[A-Za-z0-9_.-]{1,63}$'),
  enabled boolean NOT NULL DEFAULT false,
  rollout_bp int NOT NULL DEFAULT 0 CHECK (rollout_bp BETWEEN 0 AND 10000),
  version text,
  updated_at timestamptz NOT NULL DEFAULT clock_timestamp(),
  updated_by text NOT NULL DEFAULT current_user
);
CREATE TABLE IF NOT EXISTS zerodown.flag_history (
  change_id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  flag text NOT NULL,
  action text NOT NULL CHECK (action IN ('insert', 'update', 'delete')),
  old_value jsonb,
  new_value jsonb,
  db_user text NOT NULL DEFAULT current_user,
  note text,
  changed_at timestamptz NOT NULL DEFAULT clock_timestamp()
);
CREATE INDEX IF NOT EXISTS flag_history_flag ON zerodown.flag_history (flag, change_id);

CREATE OR REPLACE FUNCTION zerodown.flag_stamp() RETURNS trigger LANGUAGE plpgsql AS $fn$
DECLARE
  note text := nullif(current_setting('zerodown.flag_note', true), '');
BEGIN
  NEW.updated_at := clock_timestamp();
  NEW.updated_by := CASE WHEN note IS NULL OR note = current_user THEN current_user
                         ELSE current_user || ' (' || note || ')' END;
  RETURN NEW;
END
$fn$;

CREATE OR REPLACE FUNCTION zerodown.flag_audit() RETURNS trigger LANGUAGE plpgsql AS $fn$
DECLARE
  old_value jsonb;
  new_value jsonb;
  flag text;
  id bigint;
BEGIN
  IF TG_OP <> 'INSERT' THEN
    old_value := jsonb_build_object('enabled', OLD.enabled, 'rollout_bp', OLD.rollout_bp,
                                    'version', OLD.version);
    flag := OLD.name;
  END IF;
  IF TG_OP <> 'DELETE' THEN
    new_value := jsonb_build_object('enabled', NEW.enabled, 'rollout_bp', NEW.rollout_bp,
                                    'version', NEW.version);
    flag := NEW.name;
  END IF;
  -- An UPDATE that leaves the flag as it was is no change: no history row, no notification.
  IF old_value IS NOT DISTINCT FROM new_value THEN
    RETURN NULL;
  END IF;
  INSERT INTO zerodown.flag_history (flag, action, old_value, new_value, note)
  VALUES (flag, lower(TG_OP), old_value, new_value,
          nullif(current_setting('zerodown.flag_note', true), ''))
  RETURNING change_id INTO id;
  PERFORM pg_notify('zerodown_flags',
                    (jsonb_build_object('change_id', id, 'flag', flag, 'action', lower(TG_OP))
                     || coalesce(new_value, '{"enabled": null, "rollout_bp": null,
                                              "version": null}'))::text);
  RETURN NULL;
END
$fn$;

DROP TRIGGER IF EXISTS flags_stamp ON zerodown.flags;
CREATE TRIGGER flags_stamp BEFORE INSERT OR UPDATE ON zerodown.flags
  FOR EACH ROW EXECUTE FUNCTION zerodown.flag_stamp();
DROP TRIGGER IF EXISTS flags_audit ON zerodown.flags;
CREATE TRIGGER flags_audit AFTER INSERT OR UPDATE OR DELETE ON zerodown.flags
  FOR EACH ROW EXECUTE FUNCTION zerodown.flag_audit();

-- Applications and proxies read flags under their own roles; the history stays private.
GRANT USAGE ON SCHEMA zerodown TO PUBLIC;
GRANT SELECT ON zerodown.flags TO PUBLIC;
)sql";

// MurmurHash3 x86_32 in PL/pgSQL over bigint, each step masked to 32 bits. A 32-bit product
// x * c would overflow bigint, so it is x * (c & 0xffff) + (((x * (c >> 16)) & 0xffff) << 16);
// the first block multiply is spread over the four bytes instead: block * c1 =
// b0 * c1 + b1 * (c1 << 8) + b2 * (c1 << 16) + b3 * (c1 << 24) (mod 2^32), which reads the block
// little-endian and multiplies in one statement. Constants: c1 = 0xcc9e2d51 (11601, 52382 as
// low/high halves), c2 = 0x1b873593 (13715, 7047), 0xe6546b64 = 3864292196, fmix 0x85ebca6b
// (51819, 34283) and 0xc2b2ae35 (44597, 49842). Few statements per block is what makes it fast
// enough: about 1,000,000 calls in tens of seconds on one core.
constexpr std::string_view kHashSql = R"sql(
CREATE OR REPLACE FUNCTION zerodown.murmur3_32(data bytea, seed bigint DEFAULT 0) RETURNS bigint
LANGUAGE plpgsql IMMUTABLE STRICT PARALLEL SAFE AS $fn$
DECLARE
  n int := length(data);
  body int := n - n % 4;
  h bigint := seed & 4294967295;
  k bigint;
BEGIN
  FOR i IN 0 .. body - 1 BY 4 LOOP
    k := (get_byte(data, i)::bigint * 3432918353 + get_byte(data, i + 1)::bigint * 2653769984
          + get_byte(data, i + 2)::bigint * 760283136
          + get_byte(data, i + 3)::bigint * 1358954496) & 4294967295;
    k := ((((k << 15) & 4294967295) | (k >> 17)) * 13715
          + ((((((k << 15) & 4294967295) | (k >> 17)) * 7047) & 65535) << 16)) & 4294967295;
    h := ((((h # k) << 13) | ((h # k) >> 19)) * 5 + 3864292196) & 4294967295;
  END LOOP;
  IF n > body THEN
    k := get_byte(data, body)::bigint * 3432918353;
    IF n - body > 1 THEN k := k + get_byte(data, body + 1)::bigint * 2653769984; END IF;
    IF n - body > 2 THEN k := k + get_byte(data, body + 2)::bigint * 760283136; END IF;
    k := k & 4294967295;
    k := ((((k << 15) & 4294967295) | (k >> 17)) * 13715
          + ((((((k << 15) & 4294967295) | (k >> 17)) * 7047) & 65535) << 16)) & 4294967295;
    h := h # k;
  END IF;
  h := h # n;
  h := h # (h >> 16);
  h := (h * 51819 + (((h * 34283) & 65535) << 16)) & 4294967295;
  h := h # (h >> 13);
  h := (h * 44597 + (((h * 49842) & 65535) << 16)) & 4294967295;
  RETURN h # (h >> 16);
END
$fn$;

-- The bucket, 0 .. 9999, of user_id for flag name: (murmur3_32(utf8(name || ':' || user_id)) *
-- 10000) >> 32. PL/pgSQL, not SQL: an IMMUTABLE SQL function calling the STABLE convert_to is
-- not inlined, and its call costs more than a PL/pgSQL one.
CREATE OR REPLACE FUNCTION zerodown.flag_bucket(name text, user_id text) RETURNS int
LANGUAGE plpgsql IMMUTABLE STRICT PARALLEL SAFE AS $fn$
BEGIN
  RETURN (zerodown.murmur3_32(convert_to(name || ':' || user_id, 'UTF8')) * 10000) >> 32;
END
$fn$;

-- Whether user_id is in the flag: enabled and its bucket below rollout_bp. An unknown flag and a
-- NULL user are off. 0% and 100% skip the hash.
CREATE OR REPLACE FUNCTION zerodown.flag_enabled(name text, user_id text) RETURNS boolean
LANGUAGE sql STABLE PARALLEL SAFE AS $fn$
  SELECT coalesce((SELECT f.enabled AND $2 IS NOT NULL AND f.rollout_bp > 0
                          AND (f.rollout_bp >= 10000 OR zerodown.flag_bucket(f.name, $2) < f.rollout_bp)
                   FROM zerodown.flags f WHERE f.name = $1), false)
$fn$;
)sql";

bool UpToDate(pg::Connection& conn) {
  pg::Rows rows = conn.Exec(
      "SELECT obj_description(to_regprocedure('zerodown.flag_enabled(text,text)'), 'pg_proc')");
  return rows.Optional(0, 0) == std::string(kInstalledMarker);
}

}  // namespace

bool Install(pg::Connection& conn) {
  if (UpToDate(conn)) return false;
  bool changed = false;
  // DROP/CREATE TRIGGER lock zerodown.flags (SHARE ROW EXCLUSIVE): under a short lock_timeout,
  // retried, so that applications reading flags never queue behind an install.
  pg::RunWithLockRetry(
      conn, pg::LockRetryPolicy{}, "install zerodown's flags", [&](pg::Connection& c) {
        // Two installs at once would race on CREATE OR REPLACE FUNCTION ("tuple concurrently
        // updated"); the second waits here and then finds the work done. Class key 'zdln' as the
        // migrations' advisory lock, so it never collides with an application's own.
        c.Exec("SELECT pg_advisory_xact_lock(2053401710, hashtext('zerodown flags install'))");
        if (UpToDate(c)) return;
        c.Run(kTablesSql);
        c.Run(kHashSql);
        c.Exec(fmt::format("COMMENT ON FUNCTION zerodown.flag_enabled(text, text) IS {}",
                           c.Literal(kInstalledMarker)));
        changed = true;
      });
  return changed;
}

}  // namespace zerodown::flags
