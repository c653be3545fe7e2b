#include "zerodown/engine/shadow_copy.hpp"

#include <fmt/format.h>
#include <fmt/ranges.h>

#include <algorithm>
#include <future>
#include <limits>
#include <map>
#include <mutex>
#include <optional>
#include <random>
#include <set>
#include <span>
#include <thread>
#include <tuple>

#include "engine/copy_check.hpp"
#include "engine/copy_sql.hpp"
#include "engine/crash_point.hpp"
#include "engine/key_sql.hpp"
#include "zerodown/engine/operation.hpp"

namespace zerodown::engine {

using Clock = std::chrono::steady_clock;

namespace {

constexpr std::string_view kLogQuote = "$zd_log$";
// The copy's chunks aim at this many chunk times (--chunk-time): see Copy().
constexpr int kCopyChunkFactor = 4;
// Log entries consumed per replay transaction, at first and at most (see CatchUp).
constexpr std::int64_t kReplayBatch = 5000;
constexpr std::int64_t kMaxReplayBatch = 320000;
// A replay batch's limit when it takes what the log holds.
constexpr std::int64_t kWholeLog = 10000000;
// Right before each swap attempt the log is replayed down to ShadowCopyOptions::swap_log_target
// entries, in at most kFinalRounds rounds: what is left is replayed under the swap's lock, at
// about 25 µs an entry on a busy 2-core server (3,000 entries held a 1 M-row table's swap 78 of
// its 98 ms) ...
constexpr int kFinalRounds = 8;
// ... and then, one round trip per round, below this many.
constexpr std::int64_t kShortLog = 20;
// Rounds of a single round trip go on while the log holds swap_log_target or more, up to this many:
// a round slowed by the server (a 300 ms stall of its disk, at 6,000 writes a second) leaves
// thousands of entries, which the lock would otherwise replay (3,122 entries held a W1 swap 71 ms).
constexpr int kMaxShortRounds = 24;
// When even those rounds leave the log long, the application writes about as fast as the replay
// runs (8 unthrottled writers on 2 cores: 33,375 entries left, replayed under the swap's lock in
// 224 ms). The rest is then replayed in slices that each hold the application's writes, and only
// its writes, for about this long: a SHARE lock on the table, waited for no longer than this
// either. Between two slices the application writes freely for half as long.
constexpr std::chrono::milliseconds kHeldWrites{20};
constexpr std::int64_t kFirstHeldSlice = 1000;  // entries; then sized by the time each took
constexpr int kMaxHeldSlices = 100;
// ... and when even they leave this many, the lock would be held for tens of milliseconds (at
// 7-25 µs an entry; 86,734 held one 606 ms): the swap is not attempted then, but retried after a
// catch-up, as after a lock timeout.
constexpr std::int64_t kMaxLogUnderLock = 2000;
// A catch-up looks this often at whether the log gets shorter fast enough to be replayed within
// kPatience, and says so when not (see SayIfTheLogOutrunsTheReplay).
constexpr std::chrono::seconds kPaceWindow{5};
constexpr std::chrono::seconds kPatience{120};
// Below this many entries, a catch-up round that leaves the log more than three quarters as long
// as the round before ends the catch-up: the log has settled where the application writes as
// much while a round runs as the round replays. On W1 (7,000 writes a second against a replay
// of 10,000-14,000) a catch-up spent 7.5 s in 12 rounds hovering around 1,000 entries, and
// others hovered at 10,000-20,000 for 20-40 s. The swap's approach replays the rest, in rounds
// of one round trip, then in slices that hold the writes: 41 of them replayed 22,750 entries in
// 1.4 s there.
constexpr std::int64_t kSettledLog = 20000;
// A round of one round trip that replays this many entries or more, and more than three quarters
// of what the round before replayed, ends those rounds too: the slices take over.
constexpr std::int64_t kSettledShortLog = 1000;

// Whether a log now `now` entries long (or a round that replayed `now`) is more than three
// quarters of `before`: the log has stopped getting shorter.
bool Settled(std::int64_t now, std::int64_t before) { return now > before / 4 * 3; }

// The statement-level trigger that logs a TRUNCATE beside the row trigger named `function`.
std::string TruncateTriggerName(const std::string& function) {
  return PlanContext::TempName("_t", function);
}

// Drops the two triggers that fill the change log of `function` on `table` (quoted).
std::vector<std::string> DropLogTriggersSql(pg::Connection& conn, const std::string& function,
                                            const std::string& table) {
  return {fmt::format("DROP TRIGGER IF EXISTS {} ON {}", conn.Ident(function), table),
          fmt::format("DROP TRIGGER IF EXISTS {} ON {}", conn.Ident(TruncateTriggerName(function)),
                      table)};
}

// A lane of the integer-key copy (CopyByKeyRanges): the keys in (last, end], walked upwards;
// [last, end] while `from_last` (the first lane starts at the smallest key, and "one below it"
// does not exist for the smallest value of the key's type). The last lane has no end: it also
// takes the rows inserted beyond the largest key seen when the copy began.
struct CopyLane {
  std::int64_t last = 0;  // the keys up to here are copied
  std::optional<std::int64_t> end;
  std::int64_t width = 10000;  // keys per range, sized to the chunk time
  bool done = false;
  bool from_last = false;  // `last` itself is not copied yet

  nlohmann::json ToJson() const {
    return {{"last", last},
            {"end", end ? nlohmann::json(*end) : nlohmann::json()},
            {"width", width},
            {"done", done},
            {"from_last", from_last}};
  }
  static CopyLane FromJson(const nlohmann::json& json) {
    CopyLane lane;
    lane.last = json.at("last").get<std::int64_t>();
    if (!json.at("end").is_null()) lane.end = json.at("end").get<std::int64_t>();
    lane.width = json.at("width").get<std::int64_t>();
    lane.done = json.at("done").get<bool>();
    lane.from_last = json.value("from_last", false);
    return lane;
  }
};
// The widest range a lane reads at once: keys spread over the whole 64-bit space (random or
// time-based ids) need ranges far wider than a dense key's, and a narrower limit would walk
// them in millions of near-empty ranges.
constexpr std::int64_t kMaxLaneWidth = std::int64_t{1} << 62;

// How many keys lie above `from` up to `to` (0 when `to` is not above it), without the
// overflow `to - from` has when the two are far apart.
inline std::uint64_t KeysBetween(std::int64_t from, std::int64_t to) {
  return to > from ? static_cast<std::uint64_t>(to) - static_cast<std::uint64_t>(from) : 0;
}
// A lane reading to the end of the key space.
constexpr std::int64_t kUnbounded = std::numeric_limits<std::int64_t>::max();

// Milliseconds a log replay spent per step (summed over its sessions): taking entries off the
// log, analyzing and planning, removing the target's rows, copying them again.
struct ReplayMs {
  double take = 0, plan = 0, remove = 0, copy = 0;
  ReplayMs& operator+=(const ReplayMs& other) {
    take += other.take;
    plan += other.plan;
    remove += other.remove;
    copy += other.copy;
    return *this;
  }
};

double SecondsSince(Clock::time_point since) {
  return std::chrono::duration<double>(Clock::now() - since).count();
}

std::vector<pg::Param> Params(const std::vector<std::string>& a,
                              const std::vector<std::string>& b = {}) {
  std::vector<pg::Param> out(a.begin(), a.end());
  out.insert(out.end(), b.begin(), b.end());
  return out;
}

// "fillfactor=70" from pg_class.reloptions as `"fillfactor" = '70'`.
std::string RelOptions(pg::Connection& conn, const std::string& options_text) {
  // reloptions::text is "{a=1,b=2}"; values never hold commas or braces for table and view
  // options (numbers, booleans, local/cascaded).
  std::string inner = options_text.substr(1, options_text.size() - 2);
  std::string out;
  std::size_t start = 0;
  while (start < inner.size()) {
    std::size_t end = inner.find(',', start);
    if (end == std::string::npos) end = inner.size();
    std::string item = inner.substr(start, end - start);
    std::size_t eq = item.find('=');
    if (eq != std::string::npos) {
      out += fmt::format("{}{} = {}", out.empty() ? "" : ", ", conn.Ident(item.substr(0, eq)),
                         conn.Literal(item.substr(eq + 1)));
    }
    start = end + 1;
  }
  return out;
}

// The grants on `relation` (a regclass or oid, as text) to anyone but its owner, table- and
// column-level, as GRANT statements on `target` (quoted).
std::vector<std::string> GrantSql(pg::Connection& c, const std::string& relation,
                                  const std::string& target) {
  pg::Rows grants = c.ExecPrepared(
      "SELECT a.privilege_type, a.is_grantable, coalesce(r.rolname, ''), '' FROM pg_class c "
      "CROSS JOIN LATERAL aclexplode(c.relacl) a LEFT JOIN pg_roles r ON r.oid = a.grantee "
      "WHERE c.oid = $1::regclass AND a.grantee <> c.relowner "
      "UNION ALL SELECT a.privilege_type, a.is_grantable, coalesce(r.rolname, ''), "
      "att.attname FROM pg_attribute att CROSS JOIN LATERAL aclexplode(att.attacl) a LEFT JOIN "
      "pg_roles r ON r.oid = a.grantee WHERE att.attrelid = $1::regclass AND att.attnum > 0 "
      "AND NOT att.attisdropped",
      {relation});
  std::vector<std::string> out;
  for (int r = 0; r < grants.size(); ++r) {
    std::string grantee = grants.Text(r, 2).empty() ? "PUBLIC" : c.Ident(grants.Text(r, 2));
    std::string column = grants.Text(r, 3).empty() ? "" : " (" + c.Ident(grants.Text(r, 3)) + ")";
    // Privilege names come from aclexplode: a fixed set of keywords.
    out.push_back(fmt::format("GRANT {}{} ON TABLE {} TO {}{}", grants.Text(r, 0), column, target,
                              grantee, grants.Bool(r, 1) ? " WITH GRANT OPTION" : ""));
  }
  return out;
}

class ShadowCopyRun {
 public:
  ShadowCopyRun(pg::Connection& conn, const ShadowCopySpec& spec, const ShadowCopyOptions& options,
                nlohmann::json checkpoint, const SaveCheckpoint& save, ProgressSink& progress)
      : conn_(conn),
        spec_(spec),
        options_(options),
        checkpoint_(checkpoint.is_object() ? std::move(checkpoint) : nlohmann::json::object()),
        save_(save),
        progress_(progress),
        live_(conn.Ident(spec.schema, spec.table)),
        shadow_(conn.Ident(spec.schema, spec.shadow)),
        retired_(conn.Ident(spec.schema, spec.retired)),
        log_(conn.Ident("zerodown", spec.log_table)),
        log_function_(conn.Ident("zerodown", spec.log_function)),
        reverse_log_(conn.Ident("zerodown", spec.reverse_log_table)) {}

  ShadowCopyReport Run() {
    if (!checkpoint_.contains("stage")) checkpoint_["stage"] = "prepare";
    key_ = BuildKeySql(conn_, live_, spec_.key_columns);
    if (Stage() == "prepare") Prepare();
    if (Stage() == "copy") Copy();
    if (Stage() == "index") BuildIndexes();
    if (Stage() == "catchup") Swap();
    if (Stage() == "swapped") {
      CrashPoint("swapped");
      Finish();
    }
    report_.rows_copied = checkpoint_.value("rows_done", std::int64_t{0});
    report_.swap_lock_ms = checkpoint_.value("swap_lock_ms", 0.0);
    report_.swap_attempts = checkpoint_.value("swap_attempts", 0);
    return report_;
  }

 private:
  std::string Stage() const { return checkpoint_.value("stage", std::string("prepare")); }

  void Save(std::int64_t total = 0) { SaveOn(conn_, checkpoint_, total); }

  // Saves `checkpoint` in the transaction open on `c`.
  void SaveOn(pg::Connection& c, const nlohmann::json& checkpoint, std::int64_t total) {
    save_(c, checkpoint, checkpoint.value("rows_done", std::int64_t{0}),
          std::max(total, checkpoint.value("rows_total", std::int64_t{0})));
  }

  void Retry(std::string_view what, const std::function<void(pg::Connection&)>& body) {
    pg::RunWithLockRetry(conn_, options_.lock, what, body,
                         [&](int attempt, std::chrono::milliseconds delay, const Error&) {
                           progress_.OnLockRetry(std::string(what), attempt, delay);
                         });
  }

  // A change log: a table of keys in write order and the triggers on `table` that fill it.
  // An update that keeps the key logs it once; one that moves it logs both keys, so the replay
  // removes the row under the old key and copies it under the new one. A TRUNCATE logs an entry
  // without a key, whose replay removes every row of the target the table no longer has.
  // The function runs as its owner, so the application's roles need no privilege on the log,
  // with nothing but pg_catalog on its search path, and it compares keys by their text, so that
  // no operator of a user's type is looked up as that owner. ENABLE ALWAYS: writes made under
  // session_replication_role = replica, such as a logical replication subscriber's, are logged.
  // `function` is the function's bare name, which its row trigger also takes.
  std::vector<std::string> LogSql(const std::string& log, const std::string& function,
                                  const std::string& table,
                                  const std::vector<std::string>& key_types) {
    std::string key_columns;
    std::string new_key;
    std::string old_key;
    std::string log_columns;
    for (std::size_t i = 0; i < spec_.key_columns.size(); ++i) {
      std::string sep = i ? ", " : "";
      std::string name = conn_.Ident(spec_.key_columns[i]);
      key_columns += sep + name;
      new_key += sep + "NEW." + name;
      old_key += sep + "OLD." + name;
      log_columns += fmt::format(", {} {}", name, key_types[i]);
    }
    std::string qualified = conn_.Ident("zerodown", function);
    std::string row_trigger = conn_.Ident(function);
    std::string truncate_trigger = conn_.Ident(TruncateTriggerName(function));
    std::vector<std::string> sql = {
        // No truncation by autovacuum either: it would lock the application's inserts out.
        fmt::format("CREATE TABLE IF NOT EXISTS {} (_zd_seq bigserial PRIMARY KEY{}) WITH "
                    "(vacuum_truncate = false)",
                    log, log_columns),
        fmt::format(
            "CREATE OR REPLACE FUNCTION {fn}() RETURNS trigger LANGUAGE plpgsql SECURITY DEFINER "
            "SET search_path = pg_catalog, pg_temp AS {q} BEGIN "
            "IF TG_OP = 'TRUNCATE' THEN INSERT INTO {log} DEFAULT VALUES; RETURN NULL; END IF; "
            "IF TG_OP <> 'INSERT' THEN INSERT INTO {log} ({k}) VALUES ({old}); END IF; "
            "IF TG_OP = 'INSERT' OR (TG_OP = 'UPDATE' AND ROW({new})::text IS DISTINCT FROM "
            "ROW({old})::text) THEN INSERT INTO {log} ({k}) VALUES ({new}); END IF; RETURN NULL; "
            "END {q}",
            fmt::arg("fn", qualified), fmt::arg("q", kLogQuote), fmt::arg("log", log),
            fmt::arg("k", key_columns), fmt::arg("old", old_key), fmt::arg("new", new_key)),
        // Nobody needs to call it: a trigger fires whatever its function's privileges, and a
        // role that could attach it to a table of its own could write into the log as its owner.
        fmt::format("REVOKE ALL ON FUNCTION {}() FROM PUBLIC", qualified),
    };
    for (const auto& drop : DropLogTriggersSql(conn_, function, table)) sql.push_back(drop);
    sql.push_back(
        fmt::format("CREATE TRIGGER {} AFTER INSERT OR UPDATE OR DELETE ON {} FOR EACH "
                    "ROW EXECUTE FUNCTION {}()",
                    row_trigger, table, qualified));
    sql.push_back(fmt::format(
        "CREATE TRIGGER {} AFTER TRUNCATE ON {} FOR EACH STATEMENT EXECUTE FUNCTION {}()",
        truncate_trigger, table, qualified));
    for (const auto& trigger : {row_trigger, truncate_trigger}) {
      sql.push_back(fmt::format("ALTER TABLE {} ENABLE ALWAYS TRIGGER {}", table, trigger));
    }
    return sql;
  }

  // The change log, its trigger on the live table and the empty new heap, in one transaction:
  // every write committed after it is logged, and the copy starts after it.
  void Prepare() {
    std::int64_t total = conn_
                             .Exec(
                                 "SELECT greatest(reltuples, 0)::bigint FROM pg_class WHERE oid "
                                 "= $1::regclass",
                                 {live_})
                             .Int(0, 0);
    std::string persistence = conn_.Exec(
                                       "SELECT relpersistence = 'u' FROM pg_class WHERE oid = "
                                       "$1::regclass",
                                       {live_})
                                      .Bool(0, 0)
                                  ? "UNLOGGED "
                                  : "";
    Retry("install the change log on " + spec_.table, [&](pg::Connection& c) {
      for (const auto& sql : LogSql(log_, spec_.log_function, live_, key_.types)) {
        c.Exec(sql);
      }
      c.Exec(fmt::format("DROP TABLE IF EXISTS {}", shadow_));
      // LIKE copies names, types, NOT NULLs, collations, defaults (a serial's nextval keeps
      // calling the same sequence), CHECKs, storage and comments; no indexes yet, so the copy
      // writes the heap only.
      c.Exec(fmt::format(
          "CREATE {}TABLE {} (LIKE {} INCLUDING DEFAULTS INCLUDING CONSTRAINTS INCLUDING STORAGE "
          "INCLUDING COMMENTS INCLUDING COMPRESSION INCLUDING IDENTITY INCLUDING GENERATED)",
          persistence, shadow_, live_));
      // An autovacuum of the new heap (2 M inserted rows invite one) would hold a lock the swap
      // needs, for seconds: W1's swap failed five attempts in a row on it, each holding the
      // application for lock_timeout. The heap is analyzed by the copy; vacuum waits for the
      // swap.
      c.Exec(fmt::format("ALTER TABLE {} SET (autovacuum_enabled = false)", shadow_));
      for (const auto& a : spec_.added) {
        c.Exec(fmt::format("ALTER TABLE {} ADD COLUMN {} {}", shadow_, c.Ident(a.name), a.type));
      }
      for (const auto& r : spec_.retyped) {
        // The new heap is empty: no rewrite, and its CHECKs and defaults are re-checked for the
        // new type now rather than at the swap.
        c.Exec(fmt::format("ALTER TABLE {} ALTER COLUMN {} TYPE {}", shadow_, c.Ident(r.name),
                           r.type));
      }
      AlignIdentitySequences(c);
      checkpoint_["stage"] = "copy";
      checkpoint_["rows_done"] = 0;
      checkpoint_["rows_total"] = total;
      Save(total);
    });
  }

  // LIKE … INCLUDING IDENTITY gives the new heap an identity sequence of its own with the live
  // one's options, but as bigint whatever the column. Made the column's type, and where the live
  // sequence ends where its type ends, ending where the new type ends: an integer key made bigint
  // must count past 2^31 - 1.
  void AlignIdentitySequences(pg::Connection& c) {
    pg::Rows rows = c.Exec(
        "SELECT pg_get_serial_sequence($2::text, a.attname), format_type(n.atttypid, NULL), "
        "q.seqincrement > 0, q.seqmax = CASE q.seqtypid WHEN 'int2'::regtype THEN 32767 WHEN "
        "'int4'::regtype THEN 2147483647 ELSE 9223372036854775807 END, q.seqmin = CASE "
        "q.seqtypid WHEN 'int2'::regtype THEN -32768 WHEN 'int4'::regtype THEN -2147483648 ELSE "
        "-9223372036854775808 END FROM pg_attribute a JOIN pg_sequence q ON q.seqrelid = "
        "pg_get_serial_sequence($1::text, a.attname)::regclass JOIN pg_attribute n ON n.attrelid = "
        "$2::regclass AND n.attname = a.attname WHERE a.attrelid = $1::regclass AND a.attnum > 0 "
        "AND NOT a.attisdropped AND a.attidentity <> ''",
        {live_, shadow_});
    for (int r = 0; r < rows.size(); ++r) {
      bool ascending = rows.Bool(r, 2);
      std::string bound = ascending ? (rows.Bool(r, 3) ? " NO MAXVALUE" : "")
                                    : (rows.Bool(r, 4) ? " NO MINVALUE" : "");
      // Both names come from the catalog: a quoted qualified name and a format_type keyword.
      c.Exec(fmt::format("ALTER SEQUENCE {} AS {}{}", rows.Text(r, 0), rows.Text(r, 1), bound));
    }
  }

  // After a swap (either way), `from` is the heap that served until now and `to` the one that
  // serves from now on, both under their new names: each identity column of `to` continues from
  // where `from`'s sequence is, and its sequence takes the name of `from`'s, which steps aside.
  void CarryIdentitySequences(pg::Connection& c, const std::string& from, const std::string& to) {
    pg::Rows rows = IdentitySequences(c, from, to);
    for (int r = 0; r < rows.size(); ++r) {
      c.Exec(fmt::format("SELECT setval($1::regclass, last_value, is_called) FROM {}",
                         rows.Text(r, 0)),
             {rows.Text(r, 1)});
      c.Exec(fmt::format("ALTER SEQUENCE {} RENAME TO {}", rows.Text(r, 0),
                         c.Ident("_zd_seq_" + rows.Text(r, 3))));
      c.Exec(
          fmt::format("ALTER SEQUENCE {} RENAME TO {}", rows.Text(r, 1), c.Ident(rows.Text(r, 2))));
    }
  }

  // Per identity column of `to`: its sequence, the one of the same column of `from`, and the
  // latter's name and oid.
  static pg::Rows IdentitySequences(pg::Connection& c, const std::string& from,
                                    const std::string& to) {
    return c.ExecPrepared(
        "SELECT pg_get_serial_sequence($1::text, a.attname), "
        "pg_get_serial_sequence($2::text, a.attname), s.relname, s.oid::text "
        "FROM pg_attribute a JOIN pg_class s ON s.oid = "
        "pg_get_serial_sequence($1::text, a.attname)::regclass WHERE a.attrelid = $2::regclass AND "
        "a.attnum > 0 AND NOT a.attisdropped AND a.attidentity <> ''",
        {from, to});
  }

  std::chrono::milliseconds ChunkTime() const {
    return options_.chunks.chunk_time_source ? options_.chunks.chunk_time_source()
                                             : options_.chunks.chunk_time;
  }

  // INSERT … SELECT in key ranges, each with its checkpoint in the same transaction. A plain
  // SELECT takes no row locks, so the application never waits on the copy; the chunk time
  // bounds how long each transaction keeps the xmin horizon back and how much a kill redoes.
  void Copy() {
    CopySql sql = BuildCopySql(conn_, spec_, live_);
    std::size_t width = spec_.key_columns.size();
    // One statement per chunk: the source rows in key order (an index range scan), inserted, and
    // the chunk's size and last key returned. The key rides along under hidden names because
    // the source names columns as the old version does.
    std::string hidden_keys;
    std::string last_key_select;
    std::string hidden_descending;
    for (std::size_t i = 0; i < width; ++i) {
      hidden_keys += fmt::format(", {} AS _zd_key{}", key_.names[i], i);
      // Aliased: ORDER BY _zd_key0 would otherwise sort by this text column of the same name.
      last_key_select += fmt::format("{}_zd_key{}::text AS _zd_last{}", i ? ", " : "", i, i);
      hidden_descending += fmt::format("{}_zd_key{} DESC", i ? ", " : "", i);
    }
    auto chunk = [&](const std::string& where, std::size_t limit_param) {
      return fmt::format(
          "WITH src AS (SELECT {source}{hidden} FROM {live} WHERE {where} ORDER BY {key} LIMIT "
          "${limit}), ins AS (INSERT INTO {shadow} ({columns}) OVERRIDING SYSTEM VALUE SELECT "
          "{select} FROM src AS "
          "{alias}) SELECT (SELECT count(*) FROM src), {last} FROM src ORDER BY {desc} LIMIT 1",
          fmt::arg("source", sql.source_list), fmt::arg("hidden", hidden_keys),
          fmt::arg("live", live_), fmt::arg("where", where), fmt::arg("key", key_.list),
          fmt::arg("limit", limit_param), fmt::arg("shadow", shadow_),
          fmt::arg("columns", sql.insert_columns), fmt::arg("select", sql.select_list),
          fmt::arg("alias", conn_.Ident(spec_.table)), fmt::arg("last", last_key_select),
          fmt::arg("desc", hidden_descending));
    };
    std::string copy_first = chunk("true", 1);
    std::string copy_next = chunk(key_.Compare(">", 1), width + 1);

    // An integer key is walked by value ranges: a plain INSERT … SELECT per range, about a
    // quarter cheaper than materializing a LIMITed chunk to learn where it ended.
    static const std::set<std::string> kIntegerTypes = {"smallint", "integer", "bigint"};
    if (width == 1 && kIntegerTypes.count(key_.types[0]) > 0) {
      CopyByKeyRanges(sql);
      return;
    }

    BackfillOptions sizing = options_.chunks;
    // A chunk of the copy locks no row the application uses (it reads the live heap and writes
    // one nobody else sees), so it can run longer than a backfill batch: fewer, larger
    // statements copy faster. What it still holds back is the xmin horizon, for a moment.
    sizing.max_batch = std::max(sizing.max_batch, 500000);
    sizing.first_batch = std::max(sizing.first_batch, 10000);
    int batch = checkpoint_.value("batch", sizing.first_batch);
    std::int64_t total = checkpoint_.value("rows_total", std::int64_t{0});
    std::int64_t done_at_start = checkpoint_.value("rows_done", std::int64_t{0});
    auto started = Clock::now();
    while (true) {
      if (checkpoint_.value("rows_done", std::int64_t{0}) > 0) CrashPoint("copy");
      if (options_.chunks.before_batch) options_.chunks.before_batch();
      sizing.chunk_time = ChunkTime() * kCopyChunkFactor;
      auto last_key = checkpoint_.value("last_key", std::vector<std::string>{});
      std::vector<pg::Param> params = Params(last_key);
      params.emplace_back(std::to_string(batch));
      auto chunk_start = Clock::now();
      std::int64_t copied = 0;
      bool last = false;
      {
        pg::Transaction tx(conn_);
        pg::Rows result = last_key.empty() ? conn_.Exec(copy_first, {params.back()})
                                           : conn_.Exec(copy_next, params);
        copied = result.empty() ? 0 : result.Int(0, 0);
        // A short chunk reached the end of the table; rows written after it are in the log.
        last = copied < batch;
        if (copied > 0) {
          std::vector<std::string> end_key;
          for (std::size_t i = 0; i < width; ++i) end_key.push_back(result.Text(0, 1 + i));
          checkpoint_["last_key"] = end_key;
        }
        total = CountChunk(copied, last, total);
        checkpoint_["batch"] = batch;
        Save(total);
        tx.Commit();
      }
      auto elapsed =
          std::chrono::duration_cast<std::chrono::microseconds>(Clock::now() - chunk_start);
      if (!last && checkpoint_.contains("last_key")) {
        PruneLogPast(checkpoint_["last_key"].get<std::vector<std::string>>());
      }
      ReportCopy(started, done_at_start, total, batch, elapsed.count() / 1000.0);
      if (last) break;
      batch = NextBatchSize(batch, elapsed, sizing);
    }
    report_.copy_seconds = SecondsSince(started);
  }

  // Adds a chunk's rows to the checkpoint (in the chunk's transaction, before Save); the last
  // chunk moves the copy to the index stage and fixes the total. Returns the total to report.
  std::int64_t CountChunk(std::int64_t copied, bool last, std::int64_t total) {
    if (last) checkpoint_["stage"] = "index";
    std::int64_t done = checkpoint_.value("rows_done", std::int64_t{0}) + copied;
    checkpoint_["rows_done"] = done;
    total = last ? done : std::max(total, done);
    checkpoint_["rows_total"] = total;
    return total;
  }

  // Entries for keys the copy has not reached are dropped: the chunk that reaches them starts
  // after this and reads those committed writes. What is left to replay after the copy is what
  // was written behind it.
  // Only the entries logged since the last prune are looked at: the older ones it kept are
  // behind an earlier chunk's end, so behind this one's. Scanning the whole log after every
  // chunk cost the copy a pass over everything written behind it so far (hundreds of thousands
  // of entries per chunk at 20 M rows). An entry logged before the last prune but committed
  // after it escapes pruning; replaying it later is harmless (its key is copied again).
  void PruneLogPast(const std::vector<std::string>& copied_up_to) {
    PruneLog(conn_, key_.Compare(">", 1),
             std::vector<pg::Param>(copied_up_to.begin(), copied_up_to.end()));
  }

  // PruneLogPast with `not_reached`, a condition on the log's key over `params`, for the keys
  // no chunk has read or is reading yet.
  void PruneLog(pg::Connection& c, const std::string& not_reached, std::vector<pg::Param> params) {
    std::size_t seq = params.size() + 1;
    params.emplace_back(std::to_string(pruned_through_));
    // One snapshot: the watermark is the newest entry this statement saw.
    pruned_through_ =
        c.Exec(fmt::format("WITH d AS (DELETE FROM {log} WHERE _zd_seq > ${seq} AND ({past})) "
                           "SELECT coalesce(max(_zd_seq), ${seq}) FROM {log} WHERE _zd_seq > "
                           "${seq}",
                           fmt::arg("log", log_), fmt::arg("seq", seq),
                           fmt::arg("past", not_reached)),
               params)
            .Int(0, 0);
  }

  void ReportCopy(Clock::time_point started, std::int64_t done_at_start, std::int64_t total,
                  int batch, double last_chunk_ms) {
    std::int64_t done = checkpoint_.value("rows_done", std::int64_t{0});
    double seconds = SecondsSince(started);
    BackfillProgress p;
    p.table = spec_.table + " (copy)";
    p.rows_done = done;
    p.rows_total = total;
    p.rows_per_second = seconds > 0 ? (done - done_at_start) / seconds : 0;
    p.eta_seconds =
        p.rows_per_second > 0 ? std::max<double>(0, (total - done) / p.rows_per_second) : 0;
    p.batch_size = batch;
    p.last_chunk_ms = last_chunk_ms;
    progress_.OnBackfill(p);
  }

  // Copy() for a single integer key: the keys split into lanes, one per copy session, each
  // walked upwards in ranges of key values sized to the chunk time, all side by side.
  void CopyByKeyRanges(const CopySql& sql) {
    std::string alias = conn_.Ident(spec_.table);
    auto insert = [&](const std::string& where) {
      return fmt::format(
          "INSERT INTO {} ({}) OVERRIDING SYSTEM VALUE SELECT {} FROM (SELECT {} FROM {} WHERE "
          "{}) AS {}",
          shadow_, sql.insert_columns, sql.select_list, sql.source_list, live_, where, alias);
    };
    // A range's statement: from above `last` (or from `last` itself), to `hi` or to the end.
    auto statement = [&](bool from_last, bool bounded) {
      std::string where = key_.Compare(from_last ? ">=" : ">", 1);
      if (bounded) where += " AND " + key_.Compare("<=", 2);
      return insert(where);
    };
    // The smallest key above $1 (and up to $2): where the next range begins after an empty one.
    auto next_key = [&](bool bounded) {
      std::string where = key_.Compare(">", 1);
      if (bounded) where += " AND " + key_.Compare("<=", 2);
      return fmt::format("SELECT min({})::text FROM {} WHERE {}", key_.list, live_, where);
    };
    if (!checkpoint_.contains("key_bounds")) {
      pg::Rows bounds = conn_.Exec(fmt::format("SELECT min({k})::text, max({k})::text FROM {}",
                                               live_, fmt::arg("k", key_.list)));
      checkpoint_["key_bounds"] = {bounds.Optional(0, 0).value_or(""),
                                   bounds.Optional(0, 1).value_or("")};
    }
    std::string min_key = checkpoint_["key_bounds"][0].get<std::string>();
    std::int64_t max_key =
        min_key.empty() ? 0 : std::stoll(checkpoint_["key_bounds"][1].get<std::string>());
    std::vector<CopyLane> lanes = Lanes(min_key, max_key);
    std::size_t unfinished =
        std::count_if(lanes.begin(), lanes.end(), [](const CopyLane& l) { return !l.done; });
    std::vector<pg::Connection>& helpers = Helpers(
        static_cast<int>(std::min<std::size_t>(options_.copy_sessions, unfinished)), "copying");
    std::size_t sessions =
        std::min({helpers.size() + 1, std::max<std::size_t>(unfinished, 1),
                  static_cast<std::size_t>(std::max(options_.copy_sessions, 1))});

    std::int64_t done_at_start = checkpoint_.value("rows_done", std::int64_t{0});
    std::int64_t total = checkpoint_.value("rows_total", std::int64_t{0});
    auto started = Clock::now();
    // Guards the checkpoint, the ranges being read, the prune's watermark, the progress sink
    // and the hooks: the sessions only run their INSERTs outside it.
    std::mutex mutex;
    bool stop = false;  // a session failed: the others stop before their next chunk
    // Per lane, the end of the range it is reading, or has read last (kUnbounded: to the end of
    // the key space). A prune keeps every entry at or below it: the range being read may have
    // begun before the write the entry logs.
    std::vector<std::int64_t> reading;
    for (const auto& lane : lanes) reading.push_back(lane.done ? kUnbounded : lane.last);

    auto copy_lane = [&](pg::Connection& c, std::size_t i) {
      CopyLane lane = lanes[i];
      // Below the next key that exists, after an empty range: the next range starts its width
      // from there, so a gap in the keys costs one range, not one per width.
      std::int64_t floor = lane.last;
      while (!lane.done) {
        std::int64_t hi = 0;
        bool final = false;
        std::chrono::milliseconds target{};
        {
          std::lock_guard<std::mutex> lock(mutex);
          if (stop) return;
          if (checkpoint_.value("rows_done", std::int64_t{0}) > 0) CrashPoint("copy");
          // Under the lock: a throttle's pause holds every session.
          if (options_.chunks.before_batch) options_.chunks.before_batch();
          target = ChunkTime() * kCopyChunkFactor;
          std::int64_t end = lane.end.value_or(max_key);
          std::int64_t from = std::max(lane.last, floor);
          final = (!lane.end && min_key.empty()) ||
                  KeysBetween(from, end) <= static_cast<std::uint64_t>(lane.width);
          hi = final ? end : from + lane.width;
          reading[i] = final && !lane.end ? kUnbounded : hi;
        }
        auto chunk_start = Clock::now();
        pg::Transaction tx(c);
        bool bounded = !final || lane.end;
        std::int64_t copied =
            (bounded ? c.Exec(statement(lane.from_last, true),
                              {std::to_string(lane.last), std::to_string(hi)})
                     : c.Exec(statement(lane.from_last, false), {std::to_string(lane.last)}))
                .Affected();
        double took = 0;
        {
          std::lock_guard<std::mutex> lock(mutex);
          if (stop) return;
          CopyLane moved = lane;
          moved.last = hi;
          moved.done = final;
          moved.from_last = false;
          nlohmann::json next = checkpoint_;
          next["lanes"][i] = moved.ToJson();
          std::int64_t done = next.value("rows_done", std::int64_t{0}) + copied;
          next["rows_done"] = done;
          next["copy_chunks"] = next.value("copy_chunks", std::int64_t{0}) + 1;
          bool all_done =
              std::all_of(next["lanes"].begin(), next["lanes"].end(),
                          [](const nlohmann::json& l) { return l.value("done", false); });
          if (all_done) next["stage"] = "index";
          total = all_done ? done : std::max(total, done);
          next["rows_total"] = total;
          SaveOn(c, next, total);
          tx.Commit();
          checkpoint_ = std::move(next);
          lane = moved;
          took = std::max(SecondsSince(chunk_start), 1e-4);
          if (!all_done) PruneLanes(c, lanes, reading);
          ReportCopy(started, done_at_start, total,
                     static_cast<int>(std::min<std::int64_t>(lane.width, 1 << 30)), took * 1000);
        }
        if (copied == 0 && !final) {
          // An empty range says nothing of how dense the keys are: keep the width, skip the gap.
          std::optional<std::string> next =
              lane.end ? c.Exec(next_key(true), {std::to_string(hi), std::to_string(*lane.end)})
                             .Optional(0, 0)
                       : c.Exec(next_key(false), {std::to_string(hi)}).Optional(0, 0);
          floor = next ? std::stoll(*next) - 1 : lane.end.value_or(std::max(hi, max_key));
          continue;
        }
        double factor = std::clamp(std::chrono::duration<double>(target).count() / took, 0.5, 2.0);
        lane.width = static_cast<std::int64_t>(std::clamp(
            static_cast<double>(lane.width) * factor, 100.0, static_cast<double>(kMaxLaneWidth)));
      }
    };
    // Session `s` takes lanes s, s + sessions, …
    auto run_session = [&](pg::Connection& c, std::size_t s) {
      try {
        for (std::size_t i = s; i < lanes.size(); i += sessions) copy_lane(c, i);
      } catch (...) {
        std::lock_guard<std::mutex> lock(mutex);
        stop = true;
        throw;
      }
    };
    std::vector<std::future<void>> others;
    for (std::size_t s = 1; s < sessions; ++s) {
      others.push_back(std::async(std::launch::async, run_session, std::ref(helpers[s - 1]), s));
    }
    std::exception_ptr failure;
    try {
      run_session(conn_, 0);
    } catch (...) {
      failure = std::current_exception();
    }
    // Every session is waited for before anything it uses goes out of scope.
    for (auto& other : others) {
      try {
        other.get();
      } catch (...) {
        if (!failure) failure = std::current_exception();
      }
    }
    if (failure) std::rethrow_exception(failure);
    report_.copy_seconds = SecondsSince(started);
  }

  // The copy's lanes from the checkpoint, or made now: the keys from `min_key` to `max_key`
  // split into one equal range per copy session (one for an empty or tiny key range). A copy
  // begun by an earlier version, with one position and no lanes, goes on as one lane.
  std::vector<CopyLane> Lanes(const std::string& min_key, std::int64_t max_key) {
    std::vector<CopyLane> lanes;
    if (checkpoint_.contains("lanes")) {
      for (const auto& l : checkpoint_["lanes"]) lanes.push_back(CopyLane::FromJson(l));
      return lanes;
    }
    if (checkpoint_.contains("last_key")) {
      CopyLane lane;
      lane.last = std::stoll(checkpoint_["last_key"][0].get<std::string>());
      lane.width = checkpoint_.value("range_width", lane.width);
      lanes.push_back(lane);
    } else {
      std::int64_t start = min_key.empty() ? 0 : std::stoll(min_key);
      // Unsigned: the span between two 64-bit keys may not fit in a signed 64-bit integer.
      std::uint64_t span = static_cast<std::uint64_t>(max_key) - static_cast<std::uint64_t>(start);
      std::uint64_t n = std::clamp(options_.copy_sessions, 1, 64);
      if (min_key.empty() || span < n) n = 1;
      auto boundary = [&](std::uint64_t i) {
        return static_cast<std::int64_t>(static_cast<std::uint64_t>(start) + span / n * i);
      };
      for (std::uint64_t i = 0; i < n; ++i) {
        CopyLane lane;
        lane.last = boundary(i);
        lane.from_last = i == 0 && !min_key.empty();
        if (i + 1 < n) lane.end = boundary(i + 1);
        lanes.push_back(lane);
      }
    }
    checkpoint_.erase("last_key");
    checkpoint_.erase("range_width");
    checkpoint_["lanes"] = nlohmann::json::array();
    for (const auto& lane : lanes) checkpoint_["lanes"].push_back(lane.ToJson());
    return lanes;
  }

  // PruneLog for the lanes: the keys past the range each lane is reading, up to its end.
  void PruneLanes(pg::Connection& c, const std::vector<CopyLane>& lanes,
                  const std::vector<std::int64_t>& reading) {
    std::string not_reached;
    std::vector<pg::Param> params;
    for (std::size_t i = 0; i < lanes.size(); ++i) {
      if (reading[i] == kUnbounded || (lanes[i].end && reading[i] >= *lanes[i].end)) continue;
      params.emplace_back(std::to_string(reading[i]));
      std::string beyond = key_.Compare(">", params.size());
      if (lanes[i].end) {
        params.emplace_back(std::to_string(*lanes[i].end));
        beyond += " AND " + key_.Compare("<=", params.size());
      }
      not_reached += (not_reached.empty() ? "" : " OR ") + ("(" + beyond + ")");
    }
    if (!not_reached.empty()) PruneLog(c, not_reached, params);
  }

  struct IndexToBuild {
    std::string oid;
    std::string name;
    std::string definition;  // pg_get_indexdef, qualified names
    std::string constraint;  // "p", "u" or "" for a plain index
    bool deferrable = false;
    bool deferred = false;
    bool beyond_key = false;  // unique over other columns than the key: see UniqueBeyondKey
  };

  // SQL true for an index `i` (of pg_index) whose plain columns include every key column: two
  // rows with different keys never collide in it. Appends the key's names to `params`.
  std::string CoversKey(std::vector<pg::Param>& params) const {
    std::string keys;
    for (const auto& column : spec_.key_columns) {
      params.emplace_back(column);
      keys += fmt::format("{}${}::name", keys.empty() ? "" : ", ", params.size());
    }
    return fmt::format(
        "ARRAY(SELECT a.attname FROM pg_attribute a WHERE a.attrelid = i.indrelid AND a.attnum = "
        "ANY (i.indkey)) @> ARRAY[{}]",
        keys);
  }

  // Whether `table` has a unique index that two rows with different keys can collide in (an
  // email, a code). The copy reads rows at many moments and a replay batch copies the keys it
  // takes as they are now: a value one row gave up after its copy and another row took before
  // its own would then be there twice. So such an index is built only once a replay of the
  // whole log has made the new heap one moment of the table, and every replay after that takes
  // the whole log in one snapshot (UniqueBeyondKey's answer picks ReplayRound's way).
  bool UniqueBeyondKey(const std::string& table) {
    auto known = unique_beyond_key_.find(table);
    if (known != unique_beyond_key_.end()) return known->second;
    std::vector<pg::Param> params = {table};
    std::string covers = CoversKey(params);
    bool beyond = conn_
                      .Exec(fmt::format("SELECT EXISTS (SELECT 1 FROM pg_index i WHERE i.indrelid "
                                        "= $1::regclass AND i.indisunique AND NOT {})",
                                        covers),
                            params)
                      .Bool(0, 0);
    unique_beyond_key_[table] = beyond;
    return beyond;
  }

  std::vector<IndexToBuild> LiveIndexes(pg::Connection& c) {
    // With only pg_catalog on the search path the definitions name every object with its
    // schema, so they read the same wherever they run.
    c.Exec("SELECT set_config('search_path', 'pg_catalog', true)");
    std::vector<pg::Param> params = {live_};
    std::string covers = CoversKey(params);
    pg::Rows rows = c.ExecPrepared(
        fmt::format(
            "SELECT i.indexrelid::oid::text, ic.relname, pg_get_indexdef(i.indexrelid), "
            "coalesce(k.contype::text, ''), coalesce(k.condeferrable, false), "
            "coalesce(k.condeferred, false), i.indisunique AND NOT {} FROM pg_index i JOIN "
            "pg_class ic ON ic.oid = i.indexrelid LEFT JOIN pg_constraint k ON k.conindid = "
            "i.indexrelid AND k.conrelid = i.indrelid AND k.contype IN ('p', 'u') WHERE "
            "i.indrelid = $1::regclass AND i.indisvalid ORDER BY i.indisprimary DESC, ic.relname",
            covers),
        params);
    std::vector<IndexToBuild> out;
    for (int r = 0; r < rows.size(); ++r) {
      out.push_back({rows.Text(r, 0), rows.Text(r, 1), rows.Text(r, 2), rows.Text(r, 3),
                     rows.Bool(r, 4), rows.Bool(r, 5), rows.Bool(r, 6)});
    }
    return out;
  }

  static std::string TempIndexName(const IndexToBuild& index) { return "_zd_ix_" + index.oid; }

  // The live table's name as pg_get_indexdef prints it under LiveIndexes' search_path.
  std::string LiveText(pg::Connection& c) {
    return c
        .Exec(
            "SELECT quote_ident(n.nspname) || '.' || quote_ident(c.relname) FROM pg_class c JOIN "
            "pg_namespace n ON n.oid = c.relnamespace WHERE c.oid = $1::regclass",
            {live_})
        .Text(0, 0);
  }

  // Builds `index` of the live table on the new heap under a temporary name, in the caller's
  // transaction, and records it in the checkpoint.
  void BuildIndex(pg::Connection& c, const IndexToBuild& index, const std::string& live_text) {
    std::string marker = " ON " + live_text + " ";
    std::size_t at = index.definition.find(marker);
    if (at == std::string::npos) {
      throw Error(ErrorKind::kInternal, fmt::format("cannot read the definition of index {}: {}",
                                                    index.name, index.definition));
    }
    std::string head = index.definition.rfind("CREATE UNIQUE INDEX", 0) == 0 ? "CREATE UNIQUE INDEX"
                                                                             : "CREATE INDEX";
    std::string temp = c.Ident(TempIndexName(index));
    // The default 64 MB sorts a 2 M-row integer key on disk; 256 MB sorts it in memory, about a
    // quarter less work (measured on W1's table). Never lowered; local to this transaction.
    c.Exec(
        "SELECT set_config('maintenance_work_mem', greatest(pg_size_bytes(current_setting("
        "'maintenance_work_mem')), 256 * 1024 * 1024) / 1024 || 'kB', true)");
    if (!options_.parallel_index_builds)
      c.Exec("SELECT set_config('max_parallel_maintenance_workers', '0', true)");
    c.Exec(fmt::format("DROP INDEX IF EXISTS {}", c.Ident(spec_.schema, TempIndexName(index))));
    c.Exec(fmt::format("{} {} ON {} {}", head, temp, shadow_,
                       index.definition.substr(at + marker.size())));
    if (!index.constraint.empty()) {
      // Attached now under the temporary name, renamed at the swap: the swap only renames.
      c.Exec(fmt::format("ALTER TABLE {} ADD CONSTRAINT {} {} USING INDEX {}{}{}", shadow_, temp,
                         index.constraint == "p" ? "PRIMARY KEY" : "UNIQUE", temp,
                         index.deferrable ? " DEFERRABLE" : "",
                         index.deferred ? " INITIALLY DEFERRED" : ""));
    }
    auto built = checkpoint_.value("indexes_built", std::vector<std::string>{});
    built.push_back(index.oid);
    checkpoint_["indexes_built"] = built;
  }

  // Builds the live table's indexes not built yet whose beyond_key is `beyond_key` on the new
  // heap, one transaction each. Returns how many it built.
  int BuildMissingIndexes(bool beyond_key) {
    std::vector<IndexToBuild> indexes;
    std::string live_text;
    {
      pg::Transaction tx(conn_);
      indexes = LiveIndexes(conn_);
      live_text = LiveText(conn_);
      tx.Commit();
    }
    int n = 0;
    int built_now = 0;
    for (const auto& index : indexes) {
      ++n;
      auto built = checkpoint_.value("indexes_built", std::vector<std::string>{});
      if (index.beyond_key != beyond_key ||
          std::find(built.begin(), built.end(), index.oid) != built.end()) {
        continue;
      }
      progress_.OnMessage(fmt::format("building index {} on the copy of {} ({}/{}){}", index.name,
                                      spec_.table, n, indexes.size(),
                                      beyond_key ? ", now that the copy is one moment of it" : ""));
      // One statement of seconds: asked before it, as the copy asks before each chunk.
      if (options_.chunks.before_batch) options_.chunks.before_batch();
      pg::Transaction tx(conn_);
      BuildIndex(conn_, index, live_text);
      Save();
      tx.Commit();
      ++built_now;
      CrashPoint("index");
    }
    return built_now;
  }

  // Built once over the full heap: faster than maintaining them row by row during the copy.
  // Not CONCURRENTLY: nothing but this run reads or writes the new heap before the swap, so
  // its SHARE lock stops nobody, and a plain build is one pass instead of two.
  void BuildIndexes() {
    auto started = Clock::now();
    // The unique indexes two keys can collide in wait for a replay of the whole log
    // (UniqueBeyondKey): Swap() builds them.
    BuildMissingIndexes(/*beyond_key=*/false);
    // Fresh statistics before the application's queries plan against the new heap.
    conn_.Run(fmt::format("ANALYZE {}", shadow_));
    checkpoint_["stage"] = "catchup";
    {
      pg::Transaction tx(conn_);
      Save();
      tx.Commit();
    }
    report_.index_seconds = SecondsSince(started);
  }

  // Where a replay reads its log and what it rewrites: forward (the live heap's writes into the
  // new heap, before the swap) or reverse (the new heap's writes into the kept old heap, for a
  // rollback after the swap).
  struct ReplayPath {
    std::string log;     // quoted
    std::string batch;   // quoted temporary table holding the log entries being applied
    std::string target;  // the heap whose rows are rewritten, quoted
    std::string copy;    // INSERT INTO target … the live rows whose keys are in `batch`
  };

  // Made before the first replay transaction, outside it: the temporary table must outlive a
  // swap attempt that rolls back.
  const ReplayPath& Forward() {
    if (!forward_) {
      CopySql sql = BuildCopySql(conn_, spec_, live_);
      std::string batch = conn_.Ident("_zd_replay");
      conn_.Exec(fmt::format("CREATE TEMP TABLE IF NOT EXISTS {} (LIKE {})", batch, log_));
      forward_ = ReplayPath{
          log_, batch, shadow_,
          fmt::format("INSERT INTO {} ({}) OVERRIDING SYSTEM VALUE SELECT {} FROM (SELECT {} "
                      "FROM {} WHERE ({}) IN "
                      "(SELECT {} FROM {}) ORDER BY {}) AS {}",
                      shadow_, sql.insert_columns, sql.select_list, sql.source_list, live_,
                      key_.list, key_.list, batch, key_.list, conn_.Ident(spec_.table))};
    }
    return *forward_;
  }

  // The old heap's columns as it has them, read from the new heap with a cast to the old type.
  const ReplayPath& Reverse() {
    if (!reverse_) {
      pg::Rows columns = OldHeapColumns();
      std::string insert_columns;
      std::string select_list;
      for (int i = 0; i < columns.size(); ++i) {
        std::string name = conn_.Ident(columns.Text(i, 0));
        insert_columns += (i ? ", " : "") + name;
        select_list += fmt::format("{}CAST({} AS {})", i ? ", " : "", name, columns.Text(i, 1));
      }
      std::string batch = conn_.Ident("_zd_reverse_replay");
      conn_.Exec(fmt::format("CREATE TEMP TABLE IF NOT EXISTS {} (LIKE {})", batch, reverse_log_));
      reverse_ = ReplayPath{
          reverse_log_, batch, retired_,
          fmt::format("INSERT INTO {} ({}) OVERRIDING SYSTEM VALUE SELECT {} FROM {} WHERE ({}) "
                      "IN (SELECT {} FROM {}) ORDER BY {}",
                      retired_, insert_columns, select_list, live_, key_.list, key_.list, batch,
                      key_.list)};
    }
    return *reverse_;
  }

  // Applies up to `limit` logged changes on `c`: each logged key's row is removed from the
  // target and copied again from the live heap as it is now. `share`, when set, is a condition
  // on the log's keys: only the entries it holds for are taken. Adds each step's time to `ms`.
  // Returns how many log entries it consumed.
  std::int64_t ReplayBatch(pg::Connection& c, const ReplayPath& path, std::int64_t limit,
                           ReplayMs& ms, const std::string& share = "") {
    Clock::time_point step = Clock::now();
    auto lap = [&](double& total) {
      Clock::time_point now = Clock::now();
      total += std::chrono::duration<double>(now - step).count() * 1000;
      step = now;
    };
    // Not DELETE: nothing vacuums a temporary table, so each batch would be appended after the
    // dead rows of all the batches before it, and every scan of it (ANALYZE, the joins) would
    // read them all: 23 ms of the 74 the swap's replay took at 20 M rows.
    c.Exec(fmt::format("TRUNCATE {}", path.batch));
    pg::Rows took = c.Exec(TakeSql(path, share, "$1"), {std::to_string(limit)});
    std::int64_t taken = took.Int(0, 0);
    lap(ms.take);
    if (taken == 0) return 0;
    // Autovacuum never analyzes a temporary table: without statistics the planner would join a
    // few thousand keys to the whole table with a sequential scan.
    c.Exec(fmt::format("ANALYZE {}", path.batch));
    c.Exec(kProbeByKey);
    lap(ms.plan);
    c.Exec(RemoveSql(path));
    lap(ms.remove);
    c.Exec(path.copy);
    if (took.Int(0, 1) > 0) c.Exec(PurgeSql(path));
    lap(ms.copy);
    return taken;
  }

  // Even with statistics, from about ten thousand keys the planner hashes them and scans both
  // heaps whole: seconds on a table of millions of rows, per batch, which a busy table's log
  // outgrows and the replay never catches up. Index probes per logged key cost what the log
  // holds, whatever the table's size. Local to the transaction (a replay batch or the swap).
  static constexpr std::string_view kProbeByKey =
      "SELECT set_config('enable_hashjoin', 'off', true), set_config('enable_mergejoin', 'off', "
      "true)";

  // Moves the first `limit` entries of the log (of its `share`, if any) to the batch table, in a
  // walk along the log's index: after a long catch-up the log's heap holds thousands of empty
  // pages that a scan of it would read. Returns how many it moved and how many of them are a
  // TRUNCATE's.
  std::string TakeSql(const ReplayPath& path, const std::string& share,
                      std::string_view limit) const {
    return fmt::format(
        "WITH d AS (DELETE FROM {log} WHERE _zd_seq IN (SELECT _zd_seq FROM {log}{where} ORDER BY "
        "_zd_seq LIMIT {limit}) RETURNING *), i AS (INSERT INTO {batch} SELECT * FROM d) SELECT "
        "count(*), count(*) FILTER (WHERE {truncate}) FROM d",
        fmt::arg("log", path.log), fmt::arg("batch", path.batch),
        fmt::arg("where", share.empty() ? "" : " WHERE " + share), fmt::arg("limit", limit),
        fmt::arg("truncate", key_.AllNull("d")));
  }

  // After a TRUNCATE of the live table: removes the target's rows whose keys the live table no
  // longer has. The rows it has are the ones written since, each logged and replayed (or, during
  // the copy, ahead of it). A pass over the target, once per TRUNCATE.
  std::string PurgeSql(const ReplayPath& path) const {
    return fmt::format("DELETE FROM {} AS s WHERE NOT EXISTS (SELECT 1 FROM {} AS t WHERE {})",
                       path.target, live_, key_.Join("t", "s"));
  }

  // Removes the target's rows under the batch's keys. In key order, as the copy: the target heap
  // and its key index were written in key order, so sorted probes find their pages one after
  // another, each read once per batch. In log order they are random reads, and on a table larger
  // than shared buffers nearly each misses.
  std::string RemoveSql(const ReplayPath& path) const {
    return fmt::format(
        "DELETE FROM {} AS s USING (SELECT DISTINCT {k} FROM {} ORDER BY {k}) AS r WHERE {}",
        path.target, path.batch, key_.Join("s", "r"), fmt::arg("k", key_.list));
  }

  // Replays what the log holds when it is short, in the transaction open on `c`: in one round
  // trip (each is time the application's writes add to the log, or, under the swap's lock,
  // time it queues for), without the batch's statistics (a few dozen keys are probed by index
  // either way). Returns how many entries it replayed and how many the log holds after them
  // (counted as CatchUp does, up to the swap's log target).
  std::pair<std::int64_t, std::int64_t> ReplayShortLog(pg::Connection& c, const ReplayPath& path,
                                                       std::int64_t limit = kWholeLog) {
    pg::Rows counts = c.Run(fmt::format(
        "TRUNCATE {batch}; {take}; {probe}; {remove}; {copy}; SELECT (SELECT count(*) FROM "
        "{batch}), (SELECT count(*) FROM (SELECT 1 FROM {log} ORDER BY _zd_seq LIMIT {final}) AS "
        "t), (SELECT count(*) FROM {batch} AS b WHERE {truncate})",
        fmt::arg("batch", path.batch), fmt::arg("log", path.log),
        fmt::arg("take", TakeSql(path, "", std::to_string(limit))), fmt::arg("probe", kProbeByKey),
        fmt::arg("remove", RemoveSql(path)), fmt::arg("copy", path.copy),
        fmt::arg("final", LogTarget()), fmt::arg("truncate", key_.AllNull("b"))));
    if (counts.Int(0, 2) > 0) c.Exec(PurgeSql(path));
    return {counts.Int(0, 0), counts.Int(0, 1)};
  }

  // Connections beside this run's own, shared by the copy's sessions and the replay's, opened
  // when first needed: up to `wanted` - 1 of them. A server that refuses one more connection
  // (max_connections) gets fewer, said once: the work is slower, not wrong.
  std::vector<pg::Connection>& Helpers(int wanted, std::string_view work) {
    while (!helpers_refused_ && static_cast<int>(helpers_.size()) + 1 < wanted) {
      try {
        helpers_.push_back(conn_.OpenAnother("zerodown-helper"));
        pg::UseReadCommitted(helpers_.back());
      } catch (const Error& error) {
        if (error.kind() != ErrorKind::kConnection) throw;
        helpers_refused_ = true;
        progress_.OnMessage(fmt::format("{} {} with {} session{} instead of {}: {}", work,
                                        spec_.table, helpers_.size() + 1,
                                        helpers_.empty() ? "" : "s", wanted, error.Describe()));
      }
    }
    return helpers_;
  }

  // The sessions that replay `path`'s log beside this run's own connection, each its own share
  // of the keys (none with --replay-sessions 1).
  std::span<pg::Connection> ReplayHelpers(const ReplayPath& path) {
    std::vector<pg::Connection>& all =
        Helpers(options_.replay_sessions, "replaying the change log of");
    std::size_t n = std::min<std::size_t>(all.size(), options_.replay_sessions - 1);
    for (std::size_t& made = replay_batch_tables_[path.batch]; made < n; ++made) {
      all[made].Exec(
          fmt::format("CREATE TEMP TABLE IF NOT EXISTS {} (LIKE {})", path.batch, path.log));
    }
    return {all.data(), n};
  }

  // Session `i` of `n` takes the log entries whose keys hash to `i`.
  std::string ReplayShare(int i, int n) const {
    return fmt::format("abs(hashtext(ROW({})::text) % {}) = {}", key_.list, n, i);
  }

  // Whether `path`'s target has (or, for the new heap, will have) a unique index two keys can
  // collide in: the live table's indexes are the new heap's, some built only after a replay.
  bool WholeLogReplay(const ReplayPath& path) {
    return UniqueBeyondKey(path.log == log_ ? live_ : path.target);
  }

  // The sessions a replay round of `path` runs beside this run's connection, in either
  // direction: after the swap the application writes the new heap as fast as it wrote the old
  // one, and one session replaying it trailed 8 writers for minutes. None for a whole-log replay.
  std::span<pg::Connection> HelpersFor(const ReplayPath& path) {
    if (WholeLogReplay(path)) return {};
    return ReplayHelpers(path);
  }

  // One transaction per session, run side by side: each replays up to `limit` entries of its
  // share of the log (all of it, on this run's connection alone, without helpers). Returns
  // what each took.
  // Where the target has a unique index two keys can collide in, one repeatable-read
  // transaction instead takes the whole log and copies its keys as of the same snapshot: the
  // target is then the table as it was at that moment, which the table's unique indexes held.
  // Sessions side by side would each copy their keys as of a moment of their own.
  std::vector<std::int64_t> ReplayRound(const ReplayPath& path, std::int64_t limit) {
    if (WholeLogReplay(path)) {
      pg::Transaction tx(conn_, "BEGIN ISOLATION LEVEL REPEATABLE READ");
      std::int64_t taken = ReplayBatch(conn_, path, kWholeLog, replay_ms_);
      tx.Commit();
      report_.log_entries_replayed += taken;
      return {taken};
    }
    std::span<pg::Connection> helpers = HelpersFor(path);
    int n = static_cast<int>(helpers.size()) + 1;
    auto replay = [&](pg::Connection& c, int i, ReplayMs& ms) {
      pg::Transaction tx(c);
      std::int64_t taken = ReplayBatch(c, path, limit, ms, n > 1 ? ReplayShare(i, n) : "");
      tx.Commit();
      return taken;
    };
    std::vector<ReplayMs> helper_ms(helpers.size());
    std::vector<std::future<std::int64_t>> others;
    for (std::size_t h = 0; h < helpers.size(); ++h) {
      others.push_back(std::async(std::launch::async, replay, std::ref(helpers[h]),
                                  static_cast<int>(h) + 1, std::ref(helper_ms[h])));
    }
    std::vector<std::int64_t> taken = {replay(conn_, 0, replay_ms_)};
    for (std::size_t h = 0; h < others.size(); ++h) {
      taken.push_back(others[h].get());
      replay_ms_ += helper_ms[h];
    }
    for (std::int64_t t : taken) report_.log_entries_replayed += t;
    return taken;
  }

  // Replays the log in short transactions until fewer than `below` entries are left, or the log
  // has settled below kSettledLog. A long log (a busy table, a swap postponed for hours) is taken
  // in growing batches: the per-batch work (statistics, planning, the log's own index walk) is
  // then paid per many entries, so the replay outruns the writes that fill the log instead of
  // trailing them.
  // Returns how many entries were left (counted up to the larger of `below` and kSettledLog)
  // when it stopped.
  std::int64_t CatchUp(const ReplayPath& path, std::int64_t below,
                       int max_rounds = std::numeric_limits<int>::max()) {
    // Not in the swap's last approach (bounded in rounds): one more round trip there is more to
    // replay under its lock.
    bool paced = max_rounds == std::numeric_limits<int>::max();
    LogPace pace{Clock::now(), paced ? LogSizeEstimate(path) : 0, std::nullopt};
    std::int64_t batch = kReplayBatch;
    // The swap's last approach (bounded) counts no further than `below`: each entry walked there
    // is time the application adds to what the lock replays.
    std::int64_t settled_below = paced ? std::max(below, kSettledLog) : below;
    std::int64_t previous = std::numeric_limits<std::int64_t>::max();
    for (int round = 1;; ++round) {
      if (options_.chunks.before_batch) options_.chunks.before_batch();
      std::vector<std::int64_t> taken = ReplayRound(path, batch);
      CrashPoint(path.log == log_ ? "catchup" : "swap_back_catchup");
      if (paced) SayIfTheLogOutrunsTheReplay(path, pace);
      if (*std::max_element(taken.begin(), taken.end()) == batch) {
        batch = std::min(batch * 2, kMaxReplayBatch);
        // The swap's approach stops after its rounds however long the log still is: what they
        // left goes to the rounds of one round trip and the slices.
        if (round < max_rounds) continue;
      } else {
        batch = kReplayBatch;
      }
      // Counted along the log's key index from its start, as the swap's last batch will read it,
      // and no further than needed: the walk marks the entries the replay deleted as dead in
      // the index (PostgreSQL does so on the first scan that finds them dead to everyone), so
      // the batch under the swap's lock does not check them one by one against the heap: 178 ms
      // per million such entries, the first time (measured; 5 ms after).
      std::int64_t left = CountLog(path, settled_below);
      if (left < below || round >= max_rounds) return left;
      if (left < settled_below && Settled(left, previous)) return left;
      previous = left;
    }
  }

  // The entries `path`'s log holds, counted along its index up to `up_to`.
  std::int64_t CountLog(const ReplayPath& path, std::int64_t up_to) {
    return conn_
        .Exec(fmt::format("SELECT count(*) FROM (SELECT 1 FROM {} ORDER BY _zd_seq LIMIT $1) AS t",
                          path.log),
              {std::to_string(up_to)})
        .Int(0, 0);
  }

  // How long the log was when last looked at, and when; when the user was last told it would
  // take long.
  struct LogPace {
    Clock::time_point at;
    std::int64_t size = 0;
    std::optional<Clock::time_point> said;
  };

  // The log's length from its first and last sequence numbers: more than it holds where the
  // replay's sessions left holes, but read from the ends of an index, not counted.
  std::int64_t LogSizeEstimate(const ReplayPath& path) {
    return conn_
        .Exec(fmt::format("SELECT coalesce(max(_zd_seq) - min(_zd_seq) + 1, 0) FROM {}", path.log))
        .Int(0, 0);
  }

  // Tells the user, once a minute at most, when at the pace of the last kPaceWindow the log
  // would take longer than kPatience to replay, or never get shorter: the application writes
  // about as fast as the replay runs (8 clients updating one row each in tight loops on 2
  // cores: 22,000 changes a second against a replay of 23,000; a catch-up of 1.6 M entries took
  // 79 s, a rollback's 330 s). Nothing is changed: replaying in slices that hold the writes
  // converged no faster there, since a write costs the server about what replaying it does.
  void SayIfTheLogOutrunsTheReplay(const ReplayPath& path, LogPace& pace) {
    if (Clock::now() - pace.at < kPaceWindow) return;
    std::int64_t size = LogSizeEstimate(path);
    double window = std::chrono::duration<double>(Clock::now() - pace.at).count();
    double shrunk_per_second = static_cast<double>(pace.size - size) / window;
    bool slow = size > options_.swap_when_log_below &&
                (shrunk_per_second <= 0 ||
                 size / shrunk_per_second > static_cast<double>(kPatience.count()));
    if (slow && (!pace.said || Clock::now() - *pace.said > kPatience / 2)) {
      progress_.OnMessage(fmt::format(
          "catching up on {}: the log holds about {} entries, {} {:.0f} s ago; at this pace the "
          "replay {}. The application writes about as fast as the log is replayed: more replay "
          "sessions (--replay-sessions, {} now) or a quieter moment may help; the table serves "
          "meanwhile",
          spec_.table, size, pace.size, window,
          shrunk_per_second <= 0
              ? std::string("does not get ahead")
              : fmt::format("takes about {:.0f} s more", size / shrunk_per_second),
          options_.replay_sessions));
      pace.said = Clock::now();
    }
    pace.at = Clock::now();
    pace.size = size;
  }

  struct Dependent {
    std::vector<std::string> statements;                           // run after the renames
    std::vector<std::pair<std::string, std::string>> to_validate;  // (table, constraint)
    std::vector<std::string> triggers;       // names of the user's triggers, re-created
    std::vector<std::string> outgoing_keys;  // names of the table's own foreign keys, re-created
  };

  // The tables whose foreign keys point at the live one: the swap re-creates those keys, so it
  // locks them with it. ReadDependents reads the keys again with the rest under the lock.
  std::vector<std::string> ReferencingTables(pg::Connection& c) {
    pg::Rows rows = c.Exec(
        "SELECT DISTINCT n.nspname, t.relname FROM pg_constraint k JOIN pg_class t ON t.oid = "
        "k.conrelid JOIN pg_namespace n ON n.oid = t.relnamespace WHERE k.contype = 'f' AND "
        "k.confrelid = $1::regclass AND k.conrelid <> $1::regclass",
        {live_});
    std::vector<std::string> tables;
    for (int r = 0; r < rows.size(); ++r)
      tables.push_back(c.Ident(rows.Text(r, 0), rows.Text(r, 1)));
    return tables;
  }

  // Views over the live table, each with a statement that takes its ACCESS EXCLUSIVE lock and
  // changes nothing (ALTER VIEW … OWNER TO its owner): the swap re-creates them, and it must
  // lock them before the table. An application writing through a view (a version schema) locks
  // the view first and the table second; a swap that held the table and then asked for the view
  // would wait on a client that waits on it, until lock_timeout, at every attempt. LOCK TABLE on
  // a view is no way around: it locks the view's tables too, at once, before the next view.
  std::vector<std::string> ViewLocks(pg::Connection& c) {
    pg::Rows rows = c.Exec(
        "SELECT DISTINCT n.nspname, v.relname, pg_get_userbyid(v.relowner) FROM pg_depend d "
        "JOIN pg_rewrite r ON r.oid = d.objid JOIN pg_class v ON v.oid = r.ev_class JOIN "
        "pg_namespace n ON n.oid = v.relnamespace WHERE d.classid = 'pg_rewrite'::regclass AND "
        "d.refclassid = 'pg_class'::regclass AND d.refobjid = $1::regclass AND v.oid <> "
        "$1::regclass AND v.relkind = 'v' ORDER BY 1, 2",
        {live_});
    std::vector<std::string> locks;
    for (int r = 0; r < rows.size(); ++r) {
      locks.push_back(fmt::format("ALTER VIEW {} OWNER TO {}",
                                  c.Ident(rows.Text(r, 0), rows.Text(r, 1)),
                                  c.Ident(rows.Text(r, 2))));
    }
    return locks;
  }

  // Everything that names the live heap and must name the new one after the swap, read inside
  // the swap's transaction (so nothing changes under it) while the names still point at the
  // live heap.
  Dependent ReadDependents(pg::Connection& c, bool types_change) {
    Dependent d;
    // Generic plans for the prepared reads: planned by PlanSwapReads before the lock, not under it.
    c.Exec(
        "SELECT set_config('search_path', 'pg_catalog', true), set_config('plan_cache_mode', "
        "'force_generic_plan', true)");
    // Views over the table: CREATE OR REPLACE with the same text binds them to the new heap. A
    // view column keeps its type under CREATE OR REPLACE, so where a column's type changes the
    // view is dropped and created again, with its owner, grants, comment and column defaults.
    pg::Rows views = c.ExecPrepared(
        "SELECT DISTINCT n.nspname, v.relname, pg_get_viewdef(v.oid), "
        "coalesce(v.reloptions::text, ''), v.oid::text, pg_get_userbyid(v.relowner), "
        "obj_description(v.oid, 'pg_class') FROM pg_depend d JOIN pg_rewrite r ON r.oid = "
        "d.objid JOIN pg_class v ON v.oid = r.ev_class JOIN pg_namespace n ON n.oid = "
        "v.relnamespace WHERE d.classid = 'pg_rewrite'::regclass AND d.refclassid = "
        "'pg_class'::regclass AND d.refobjid = $1::regclass AND v.oid <> $1::regclass AND "
        "v.relkind = 'v'",
        {live_});
    for (int r = 0; r < views.size(); ++r) {
      std::string definition = views.Text(r, 2);
      while (!definition.empty() && (definition.back() == ';' || definition.back() == ' ')) {
        definition.pop_back();
      }
      std::string view = c.Ident(views.Text(r, 0), views.Text(r, 1));
      std::string options =
          views.Text(r, 3).empty() ? "" : " WITH (" + RelOptions(c, views.Text(r, 3)) + ")";
      if (!types_change) {
        d.statements.push_back(
            fmt::format("CREATE OR REPLACE VIEW {}{} AS {}", view, options, definition));
        continue;
      }
      std::string oid = views.Text(r, 4);
      d.statements.push_back(fmt::format("DROP VIEW {}", view));
      d.statements.push_back(fmt::format("CREATE VIEW {}{} AS {}", view, options, definition));
      d.statements.push_back(
          fmt::format("ALTER VIEW {} OWNER TO {}", view, c.Ident(views.Text(r, 5))));
      std::vector<std::string> grants = GrantSql(c, oid, view);
      d.statements.insert(d.statements.end(), grants.begin(), grants.end());
      if (auto comment = views.Optional(r, 6)) {
        d.statements.push_back(fmt::format("COMMENT ON VIEW {} IS {}", view, c.Literal(*comment)));
      }
      pg::Rows defaults = c.ExecPrepared(
          "SELECT a.attname, pg_get_expr(d.adbin, d.adrelid) FROM pg_attrdef d JOIN "
          "pg_attribute a ON a.attrelid = d.adrelid AND a.attnum = d.adnum WHERE d.adrelid = "
          "$1::oid ORDER BY a.attnum",
          {oid});
      for (int i = 0; i < defaults.size(); ++i) {
        d.statements.push_back(fmt::format("ALTER VIEW {} ALTER COLUMN {} SET DEFAULT {}", view,
                                           c.Ident(defaults.Text(i, 0)), defaults.Text(i, 1)));
      }
    }
    // The user's triggers (and those of earlier operations of this migration).
    pg::Rows triggers = c.ExecPrepared(
        "SELECT pg_get_triggerdef(t.oid), t.tgenabled::text, t.tgname FROM pg_trigger t WHERE "
        "t.tgrelid = $1::regclass AND NOT t.tgisinternal AND t.tgfoid NOT IN (SELECT p.oid FROM "
        "pg_proc p WHERE p.pronamespace = 'zerodown'::regnamespace AND p.proname IN ($2, $3)) "
        "ORDER BY t.tgname",
        {live_, spec_.log_function, spec_.reverse_log_function});
    for (int r = 0; r < triggers.size(); ++r) {
      d.statements.push_back(triggers.Text(r, 0));
      d.triggers.push_back(triggers.Text(r, 2));
      std::string state = triggers.Text(r, 1);
      std::string how = state == "D"   ? "DISABLE"
                        : state == "R" ? "ENABLE REPLICA"
                        : state == "A" ? "ENABLE ALWAYS"
                                       : "";
      if (!how.empty()) {
        d.statements.push_back(
            fmt::format("ALTER TABLE {} {} TRIGGER {}", live_, how, c.Ident(triggers.Text(r, 2))));
      }
    }
    // Foreign keys: from the table (and to itself) re-created on the new heap; from other
    // tables dropped and re-created to point at it. NOT VALID keeps the swap free of scans;
    // they are validated right after it, without blocking writes.
    pg::Rows keys = c.ExecPrepared(
        "SELECT k.conname, n.nspname, t.relname, pg_get_constraintdef(k.oid), k.convalidated, "
        "k.conrelid = $1::regclass FROM pg_constraint k JOIN pg_class t ON t.oid = k.conrelid "
        "JOIN pg_namespace n ON n.oid = t.relnamespace WHERE k.contype = 'f' AND (k.conrelid = "
        "$1::regclass OR k.confrelid = $1::regclass) ORDER BY k.conname",
        {live_});
    for (int r = 0; r < keys.size(); ++r) {
      std::string name = c.Ident(keys.Text(r, 0));
      std::string table = c.Ident(keys.Text(r, 1), keys.Text(r, 2));
      std::string definition = keys.Text(r, 3);
      constexpr std::string_view kNotValid = " NOT VALID";
      if (definition.size() > kNotValid.size() &&
          definition.compare(definition.size() - kNotValid.size(), kNotValid.size(), kNotValid) ==
              0) {
        definition.resize(definition.size() - kNotValid.size());
      }
      bool outgoing = keys.Bool(r, 5);
      if (outgoing) d.outgoing_keys.push_back(keys.Text(r, 0));
      if (!outgoing) {
        d.statements.push_back(fmt::format("ALTER TABLE {} DROP CONSTRAINT {}", table, name));
      }
      d.statements.push_back(fmt::format("ALTER TABLE {} ADD CONSTRAINT {} {} NOT VALID",
                                         outgoing ? live_ : table, name, definition));
      if (keys.Bool(r, 4)) d.to_validate.emplace_back(outgoing ? live_ : table, name);
    }
    // Sequences the table's columns own (serial): re-owned, or dropping the old heap drops
    // them.
    pg::Rows sequences = c.ExecPrepared(
        "SELECT n.nspname, s.relname, a.attname FROM pg_depend d JOIN pg_class s ON s.oid = "
        "d.objid AND s.relkind = 'S' JOIN pg_namespace n ON n.oid = s.relnamespace JOIN "
        "pg_attribute a ON a.attrelid = d.refobjid AND a.attnum = d.refobjsubid WHERE d.classid "
        "= 'pg_class'::regclass AND d.refobjid = $1::regclass AND d.deptype = 'a'",
        {live_});
    for (int r = 0; r < sequences.size(); ++r) {
      d.statements.push_back(fmt::format("ALTER SEQUENCE {} OWNED BY {}.{}",
                                         c.Ident(sequences.Text(r, 0), sequences.Text(r, 1)), live_,
                                         c.Ident(sequences.Text(r, 2))));
    }
    // Owner, grants (table and column), comment, replica identity, storage options.
    pg::Rows table = c.ExecPrepared(
        "SELECT pg_get_userbyid(c.relowner), coalesce(obj_description(c.oid, 'pg_class'), ''), "
        "obj_description(c.oid, 'pg_class') IS NOT NULL, c.relreplident::text, "
        "coalesce(c.reloptions::text, ''), coalesce((SELECT ic.relname FROM pg_index i JOIN "
        "pg_class ic ON ic.oid = i.indexrelid WHERE i.indrelid = c.oid AND i.indisreplident), "
        "'') FROM pg_class c WHERE c.oid = $1::regclass",
        {live_});
    d.statements.push_back(
        fmt::format("ALTER TABLE {} OWNER TO {}", live_, c.Ident(table.Text(0, 0))));
    std::vector<std::string> grants = GrantSql(c, live_, live_);
    d.statements.insert(d.statements.end(), grants.begin(), grants.end());
    if (table.Bool(0, 2)) {
      d.statements.push_back(
          fmt::format("COMMENT ON TABLE {} IS {}", live_, c.Literal(table.Text(0, 1))));
    }
    std::string identity = table.Text(0, 3);
    if (identity == "f")
      d.statements.push_back(fmt::format("ALTER TABLE {} REPLICA IDENTITY FULL", live_));
    if (identity == "n") {
      d.statements.push_back(fmt::format("ALTER TABLE {} REPLICA IDENTITY NOTHING", live_));
    }
    if (identity == "i" && !table.Text(0, 5).empty()) {
      d.statements.push_back(fmt::format("ALTER TABLE {} REPLICA IDENTITY USING INDEX {}", live_,
                                         c.Ident(table.Text(0, 5))));
    }
    if (!table.Text(0, 4).empty()) {
      d.statements.push_back(
          fmt::format("ALTER TABLE {} SET ({})", live_, RelOptions(c, table.Text(0, 4))));
    }
    return d;
  }

  // Each index of the live heap gives its name to its twin on the new heap.
  std::vector<std::string> RenameIndexes(pg::Connection& c,
                                         const std::vector<IndexToBuild>& indexes) {
    std::vector<std::string> before;
    std::vector<std::string> after;
    for (const auto& index : indexes) {
      std::string old_name = c.Ident("_zd_old_" + index.oid);
      std::string temp = c.Ident(TempIndexName(index));
      if (index.constraint.empty()) {
        before.push_back(fmt::format("ALTER INDEX {} RENAME TO {}",
                                     c.Ident(spec_.schema, index.name), old_name));
        after.push_back(fmt::format("ALTER INDEX {} RENAME TO {}",
                                    c.Ident(spec_.schema, TempIndexName(index)),
                                    c.Ident(index.name)));
      } else {
        before.push_back(fmt::format("ALTER TABLE {} RENAME CONSTRAINT {} TO {}", live_,
                                     c.Ident(index.name), old_name));
        after.push_back(fmt::format("ALTER TABLE {} RENAME CONSTRAINT {} TO {}", shadow_, temp,
                                    c.Ident(index.name)));
      }
    }
    before.insert(before.end(), after.begin(), after.end());
    return before;
  }

  // A swap attempt queues every query on the table behind its lock request for up to
  // lock_timeout; against a holder that will not let go in time (an autovacuum, a report, a
  // session idle in a transaction) that wait is pure harm. So before each attempt: an autovacuum
  // on the tables (not one against wraparound) is cancelled, as PostgreSQL itself cancels one
  // that blocks a lock request, and it runs again later; any other session that has held a lock
  // on them for longer than half the lock_timeout is waited for, with the log kept short
  // meanwhile, for at most as many rounds as the swap may take attempts. Reads the catalog and
  // pg_stat_activity; on PostgreSQL 15 only a superuser may cancel an autovacuum (otherwise it
  // is waited for like any other holder).
  void WaitForLongHolders(const ReplayPath& path, const std::vector<std::string>& also_lock) {
    // $1 the patience, then the tables: $2, $3, … (quoted names do not survive an array literal).
    std::vector<pg::Param> params = {
        fmt::format("{} milliseconds", options_.lock.lock_timeout.count() / 2), live_};
    for (const auto& t : also_lock) params.emplace_back(t);
    std::string tables;
    for (std::size_t i = 2; i <= params.size(); ++i) {
      tables += fmt::format("{}${}::regclass", i > 2 ? ", " : "", i);
    }
    std::string query = fmt::format(
        "SELECT DISTINCT a.pid, a.backend_type, l.mode, coalesce(extract(epoch FROM now() - "
        "coalesce(a.xact_start, a.query_start)) * 1000, 0)::bigint, a.backend_type = 'autovacuum "
        "worker' AND a.query NOT LIKE '%wraparound%' FROM pg_locks l JOIN pg_stat_activity a ON "
        "a.pid = l.pid WHERE l.locktype = 'relation' AND l.granted AND l.database = (SELECT oid "
        "FROM pg_database WHERE datname = current_database()) AND l.relation IN ({}) AND l.pid <> "
        "pg_backend_pid() AND (a.backend_type = 'autovacuum worker' OR now() - "
        "coalesce(a.xact_start, a.query_start) > $1::interval)",
        tables);
    std::mt19937_64 rng(std::random_device{}());
    for (int round = 1; round < options_.lock.max_attempts; ++round) {
      pg::Rows holders = conn_.Exec(query, params);
      if (holders.empty()) return;
      std::string who;
      bool cancelled = false;
      for (int r = 0; r < holders.size(); ++r) {
        who +=
            fmt::format("{}pid {} ({}, {} for {} ms)", who.empty() ? "" : ", ", holders.Text(r, 0),
                        holders.Text(r, 1), holders.Text(r, 2), holders.Text(r, 3));
        if (holders.Bool(r, 4)) {
          auto result = conn_.TryExec("SELECT pg_cancel_backend($1::int)", {holders.Text(r, 0)});
          cancelled = cancelled || (result.ok() && result->Bool(0, 0));
        }
      }
      auto delay =
          cancelled ? std::chrono::milliseconds(50) : pg::BackoffDelay(options_.lock, round, rng);
      progress_.OnMessage(fmt::format(
          "{} the swap of {}: {}; {}", cancelled ? "cleared the way for" : "waiting to try",
          spec_.table, who,
          cancelled ? "cancelled the autovacuum (it runs again later)"
                    : fmt::format("trying again in {} ms without queueing the application",
                                  delay.count())));
      std::this_thread::sleep_for(delay);
      CatchUp(path, options_.swap_when_log_below);
    }
  }

  // Replays `path` until its log is short, then runs `body` in one transaction that holds ACCESS
  // EXCLUSIVE on the live table, `also_lock` and the tables whose foreign keys point at it, under
  // lock_timeout, after the last log entries. When the lock is not had in time the application's
  // queries go first: the log is caught up again and the swap retried after a backoff. `body`
  // gets the dependents read under the lock and returns nothing; it records its stage itself.
  void SwapUnderLock(const std::string& what, const std::string& done, const ReplayPath& path,
                     const std::vector<std::string>& also_lock, bool types_change,
                     const std::function<void(pg::Connection&, const Dependent&)>& body) {
    pg::LockRetryPolicy once = options_.lock;
    once.max_attempts = 1;
    std::mt19937_64 rng(std::random_device{}());
    PlanSwapReads(types_change, also_lock.front());
    for (int attempt = 1;; ++attempt) {
      // The replayed entries are dead rows at the head of the log's index, which every batch's
      // walk (and the one under the lock) steps over until a vacuum removes them: hundreds of
      // thousands after a long catch-up. The application's inserts into the log do not conflict
      // with a vacuum, but they do with the ACCESS EXCLUSIVE lock a vacuum takes to cut empty
      // pages off the end: VACUUM tries for it for up to 5 s (and holds the inserts up when it
      // gets it), hence TRUNCATE OFF. SKIP_LOCKED: an autovacuum of the log is doing the work.
      Clock::time_point prepared = Clock::now();
      conn_.Exec(fmt::format("VACUUM (INDEX_CLEANUP ON, TRUNCATE OFF, SKIP_LOCKED) {}", path.log));
      checkpoint_["swap_vacuum_ms"] = SecondsSince(prepared) * 1000;
      WaitForLongHolders(path, also_lock);
      // Read before the last catch-up, not between it and the lock: planning this catalog query
      // took 3-4 ms on a busy server, and every write in that time is one more entry to replay
      // under the lock. A foreign key added since is read with the rest under the lock; its
      // table is then locked when the swap re-creates the key, within lock_timeout.
      std::vector<std::string> referencing = ReferencingTables(conn_);
      std::vector<std::string> view_locks = ViewLocks(conn_);
      Clock::time_point last_catchup = Clock::now();
      std::int64_t left = CatchUp(path, LogTarget(), kFinalRounds);
      // Then rounds of a single round trip, on one session: a batch's nine leave the
      // application the time to log about as many entries as the lock would find.
      int round = 0;
      std::int64_t previous = std::numeric_limits<std::int64_t>::max();
      for (; (round < kFinalRounds && left >= kShortLog) ||
             (round < kMaxShortRounds && left >= LogTarget());
           ++round) {
        pg::Transaction tx(
            conn_, WholeLogReplay(path) ? "BEGIN ISOLATION LEVEL REPEATABLE READ" : "BEGIN");
        auto [replayed, now_left] = ReplayShortLog(conn_, path);
        tx.Commit();
        report_.log_entries_replayed += replayed;
        left = now_left;
        if (!WholeLogReplay(path) && replayed >= kSettledShortLog && Settled(replayed, previous)) {
          ++round;
          break;
        }
        previous = replayed;
      }
      checkpoint_.erase("swap_held_slices");
      checkpoint_.erase("swap_held_longest_ms");
      // Always with a target of 0.
      if (left >= options_.swap_log_target && !WholeLogReplay(path))
        left = ReplayWithWritesHeld(path);
      if (left >= LogTarget() && CountLog(path, kMaxLogUnderLock) >= kMaxLogUnderLock) {
        if (attempt >= options_.lock.max_attempts) {
          throw Error(ErrorKind::kLockTimeout,
                      fmt::format("{}: after {} attempts the change log still held {} or more "
                                  "entries right before the lock, which it would replay while "
                                  "holding it; the application writes to {} about as fast as "
                                  "the log is replayed",
                                  what, attempt, kMaxLogUnderLock, spec_.table),
                      "Run the command again at a quieter moment, or with more --replay-sessions: "
                      "nothing is lost, and it resumes with the catch-up.");
        }
        auto delay = pg::BackoffDelay(options_.lock, attempt, rng);
        progress_.OnMessage(fmt::format(
            "not trying to {} yet: {} or more logged changes are still left, which the lock "
            "would hold the table for while replaying them; catching up and trying again in {} ms",
            what, kMaxLogUnderLock, delay.count()));
        std::this_thread::sleep_for(delay);
        CatchUp(path, options_.swap_when_log_below);
        continue;
      }
      checkpoint_["swap_last_catchup_ms"] = SecondsSince(last_catchup) * 1000;
      checkpoint_["swap_short_rounds"] = round;
      Clock::time_point approached = Clock::now();
      double held_ms = 0;
      nlohmann::json before = checkpoint_;
      try {
        Clock::time_point locked;
        pg::RunWithLockRetry(conn_, once, what, [&](pg::Connection& c) {
          // The tables only zerodown and autovacuum use come first: waiting for them must not
          // hold the live table's lock with the application queued behind it.
          // Then the views over the table, then the table: the order the application locks
          // them in. One round trip.
          std::string locks;
          for (const auto& t : also_lock) locks += (locks.empty() ? "" : ", ") + t;
          locks = fmt::format("LOCK TABLE {} IN ACCESS EXCLUSIVE MODE; ", locks);
          for (const auto& v : view_locks) locks += v + "; ";
          std::string tables = live_;
          for (const auto& t : referencing) tables += ", " + t;
          c.Run(locks + fmt::format("LOCK TABLE {} IN ACCESS EXCLUSIVE MODE", tables));
          locked = Clock::now();
          checkpoint_["swap_log_before"] = left;
          checkpoint_["swap_wait_ms"] =
              std::chrono::duration<double>(locked - approached).count() * 1000;
          std::int64_t replayed = ReplayShortLog(c, path).first;
          report_.log_entries_replayed += replayed;
          // Where the lock's time goes, for the benchmark's record of the swap.
          checkpoint_["swap_replayed"] = replayed;
          checkpoint_["swap_replay_ms"] = SecondsSince(locked) * 1000;
          // Nothing can change these from here on.
          Dependent dependents = ReadDependents(c, types_change);
          checkpoint_["swap_read_ms"] = SecondsSince(locked) * 1000;
          body(c, dependents);
          checkpoint_["swap_body_ms"] = SecondsSince(locked) * 1000;
          checkpoint_["swap_attempts"] = attempt;
          checkpoint_["swap_lock_ms"] = SecondsSince(locked) * 1000;
          Save();
        });
        held_ms = SecondsSince(locked) * 1000;
      } catch (const Error& error) {
        checkpoint_ = before;  // the attempt's transaction rolled back
        if (error.kind() != ErrorKind::kLockTimeout || attempt >= options_.lock.max_attempts) {
          throw;
        }
        auto delay = pg::BackoffDelay(options_.lock, attempt, rng);
        progress_.OnLockRetry(what, attempt, delay);
        std::this_thread::sleep_for(delay);
        CatchUp(path, options_.swap_when_log_below);
        continue;
      }
      checkpoint_["swap_lock_ms"] = held_ms;
      progress_.OnMessage(fmt::format(
          "{}: ACCESS EXCLUSIVE held {:.1f} ms (attempt {}; the last {} logged changes replayed "
          "under it in {:.1f} ms, catalog read by {:.1f} ms, swap done by {:.1f} ms; {} left "
          "before it, lock had {:.1f} ms after; before it the log was vacuumed in {:.0f} ms and "
          "caught up in {:.0f} ms, the last {} round trip{}), {} logged changes replayed in all",
          done, held_ms, attempt, checkpoint_.value("swap_replayed", std::int64_t{0}),
          checkpoint_.value("swap_replay_ms", 0.0), checkpoint_.value("swap_read_ms", 0.0),
          checkpoint_.value("swap_body_ms", 0.0),
          checkpoint_.value("swap_log_before", std::int64_t{0}),
          checkpoint_.value("swap_wait_ms", 0.0), checkpoint_.value("swap_vacuum_ms", 0.0),
          checkpoint_.value("swap_last_catchup_ms", 0.0), checkpoint_.value("swap_short_rounds", 0),
          checkpoint_.value("swap_short_rounds", 0) == 1 ? "" : "s", report_.log_entries_replayed));
      return;
    }
  }

  // The entries the swap's approach replays the log down to: ShadowCopyOptions::swap_log_target,
  // at least one (0 asks for a slice before every swap, see SwapUnderLock).
  std::int64_t LogTarget() const { return std::max<std::int64_t>(options_.swap_log_target, 1); }

  // Replays `path`'s log in slices under a SHARE lock on the live table (kHeldWrites), until
  // fewer entries than the swap's log target are left or kMaxHeldSlices were tried. SHARE stops the
  // application's writes and so the log's growth, not its reads. A slice whose lock is not had
  // in time is skipped. Not for a whole-log replay: a slice of its log could meet a collision in
  // a unique index that the rest of the log resolves. Returns the entries left, counted up to the
  // target.
  std::int64_t ReplayWithWritesHeld(const ReplayPath& path) {
    pg::LockRetryPolicy once = options_.lock;
    once.max_attempts = 1;
    once.lock_timeout = kHeldWrites;
    std::int64_t limit = kFirstHeldSlice;
    std::int64_t left = LogTarget();
    int slices = 0;
    int skipped = 0;
    std::int64_t replayed_in_all = 0;
    double longest_ms = 0;
    Clock::time_point began = Clock::now();
    for (; slices < kMaxHeldSlices && left >= LogTarget(); ++slices) {
      Clock::time_point locked;
      double replay_ms = 0;
      std::int64_t replayed = 0;
      try {
        pg::RunWithLockRetry(conn_, once, "hold writes to " + spec_.table, [&](pg::Connection& c) {
          c.Exec(fmt::format("LOCK TABLE {} IN SHARE MODE", live_));
          locked = Clock::now();
          std::tie(replayed, left) = ReplayShortLog(c, path, limit);
          replay_ms = SecondsSince(locked) * 1000;
        });
      } catch (const Error& error) {
        if (error.kind() != ErrorKind::kLockTimeout) throw;
        ++skipped;
        std::this_thread::sleep_for(kHeldWrites);
        continue;
      }
      double held_ms = SecondsSince(locked) * 1000;
      longest_ms = std::max(longest_ms, held_ms);
      replayed_in_all += replayed;
      report_.log_entries_replayed += replayed;
      // Sized by the time the last one took, at most doubled: a slice of a few hundred entries
      // that ran fast says little about one of tens of thousands.
      if (replayed == limit && replay_ms > 0) {
        limit = std::clamp<std::int64_t>(
            static_cast<std::int64_t>(static_cast<double>(limit) * kHeldWrites.count() / replay_ms),
            kFirstHeldSlice / 10, 2 * limit);
      }
      // Half as long free as held: at one to one, 8 writers as fast as the replay wrote
      // between two slices what the slice had replayed, for 100 slices.
      if (left >= LogTarget()) {
        std::this_thread::sleep_for(std::max<std::chrono::duration<double, std::milli>>(
            kHeldWrites / 2, std::chrono::duration<double, std::milli>(held_ms / 2)));
      }
    }
    // The slices that held the writes; those refused their lock held nothing.
    int held = slices - skipped;
    checkpoint_["swap_held_slices"] = held;
    checkpoint_["swap_held_longest_ms"] = longest_ms;
    progress_.OnMessage(fmt::format(
        "before the swap of {}: {} logged changes replayed in {} slice{} that each held the "
        "application's writes (not its reads) for at most {:.1f} ms, {} more skipped for the "
        "lock, over {:.0f} ms; {} left",
        spec_.table, replayed_in_all, held, held == 1 ? "" : "s", longest_ms, skipped,
        SecondsSince(began) * 1000,
        left >= LogTarget() ? fmt::format("{} or more", LogTarget()) : std::to_string(left)));
    return left;
  }

  // Runs the catalog reads a swap makes under its lock once before it, in a transaction rolled
  // back, so that under the lock they execute plans already made: planning them there took about
  // half of the lock's time (7 of 15 ms, idle). `other` is the heap that takes the table's place.
  void PlanSwapReads(bool types_change, const std::string& other) {
    pg::Transaction tx(conn_);
    ReadDependents(conn_, types_change);
    LiveIndexes(conn_);
    IdentitySequences(conn_, live_, other);
    if (types_change) WidenSequences(conn_);
  }

  // Gives the new heap the table's name, indexes, dependents and (when it keeps the old heap)
  // the reverse log, in one short transaction.
  void Swap() {
    progress_.OnMessage(
        fmt::format("catching up on {}: {} logged changes to replay", spec_.table,
                    conn_.Exec(fmt::format("SELECT count(*) FROM {}", log_)).Int(0, 0)));
    Clock::time_point started = Clock::now();
    std::int64_t replayed_before = report_.log_entries_replayed;
    replay_ms_ = {};
    CatchUp(Forward(), options_.swap_when_log_below);
    if (BuildMissingIndexes(/*beyond_key=*/true) > 0) {
      CatchUp(Forward(), options_.swap_when_log_below);
    }
    double seconds = SecondsSince(started);
    std::int64_t replayed = report_.log_entries_replayed - replayed_before;
    int sessions = static_cast<int>(HelpersFor(Forward()).size()) + 1;
    // For the benchmark's record (saved with the swap).
    checkpoint_["catchup_sessions"] = sessions;
    checkpoint_["catchup_replayed"] = replayed;
    checkpoint_["catchup_seconds"] = seconds;
    progress_.OnMessage(fmt::format(
        "caught up on {}: {} logged changes replayed in {:.1f} s ({:.0f}/s) by {} session{} "
        "(between them: taking {:.1f} s, planning {:.1f}, removing {:.1f}, copying {:.1f})",
        spec_.table, replayed, seconds, seconds > 0 ? replayed / seconds : 0.0, sessions,
        sessions > 1 ? "s" : "", replay_ms_.take / 1000, replay_ms_.plan / 1000,
        replay_ms_.remove / 1000, replay_ms_.copy / 1000));
    CheckBeforeSwap();
    if (options_.before_cutover) {
      Clock::time_point asked = Clock::now();
      options_.before_cutover();
      // Only after a postponement: the seconds of the check above are the swap's approach's to
      // replay, and a catch-up of its own here cost a W1 run 7.5 s.
      if (Clock::now() - asked > std::chrono::seconds(1)) {
        CatchUp(Forward(), options_.swap_when_log_below);
      }
    }
    bool types_change = !spec_.retyped.empty();
    SwapUnderLock(
        "swap " + spec_.table + " in", "swapped " + spec_.table + " in", Forward(), {shadow_},
        types_change, [&](pg::Connection& c, const Dependent& dependents) {
          std::vector<IndexToBuild> indexes = LiveIndexes(c);
          std::vector<std::string> renames = RenameIndexes(c, indexes);
          auto half = renames.begin() + static_cast<std::ptrdiff_t>(renames.size() / 2);
          std::vector<std::string> ddl = DropLogTriggersSql(c, spec_.log_function, live_);
          ddl.insert(ddl.end(), renames.begin(), half);
          ddl.push_back(fmt::format("ALTER TABLE {} RENAME TO {}", live_, c.Ident(spec_.retired)));
          ddl.insert(ddl.end(), half, renames.end());
          ddl.push_back(fmt::format("ALTER TABLE {} RENAME TO {}", shadow_, c.Ident(spec_.table)));
          // Autovacuum is the table's again (the live table's own options follow, if it had any).
          ddl.push_back(fmt::format("ALTER TABLE {} RESET (autovacuum_enabled)", live_));
          ddl.insert(ddl.end(), dependents.statements.begin(), dependents.statements.end());
          ddl.insert(ddl.end(), spec_.after_swap_sql.begin(), spec_.after_swap_sql.end());
          // One round trip for all of it: each costs the lock's holder time.
          c.Run(fmt::format("{}", fmt::join(ddl, ";\n")));
          CarryIdentitySequences(c, retired_, live_);
          if (types_change) {
            for (const auto& sql : WidenSequences(c)) c.Exec(sql);
          }
          if (spec_.keep_old_heap) KeepOldHeap(c, dependents, indexes);
          nlohmann::json validate = nlohmann::json::array();
          for (const auto& [table, name] : dependents.to_validate) {
            validate.push_back({table, name});
          }
          checkpoint_["stage"] = "swapped";
          checkpoint_["validate"] = validate;
        });
  }

  // A copy that differs from the table is a bug (or a write that bypassed the change log, made
  // with its triggers disabled): never swapped in.
  void CheckBeforeSwap() {
    CopyCheckMode mode = options_.check_before_swap;
    if (mode == CopyCheckMode::kOff) return;
    progress_.OnMessage(fmt::format("checking the copy of {} against the table ({})", spec_.table,
                                    mode == CopyCheckMode::kFull ? "every row" : "a sample"));
    CopyCheckResult check =
        CheckCopy(conn_, spec_, key_, live_, shadow_, log_, mode, options_.check_sample_rows);
    report_.rows_checked = check.rows;
    checkpoint_["rows_checked"] = check.rows;
    if (check.mismatched > 0 || check.extra > 0) {
      std::string keys;
      for (const auto& k : check.keys) keys += (keys.empty() ? "" : ", ") + k;
      throw Error(ErrorKind::kMigrationFailed,
                  fmt::format("the copy of {} differs from the table: {} of {} rows compared "
                              "differ or are missing in the copy{}{}, and {} rows of the copy "
                              "are not in the table",
                              spec_.table, check.mismatched, check.rows,
                              keys.empty() ? "" : " (first keys: ", keys.empty() ? "" : keys + ")",
                              check.extra),
                  "Nothing was swapped: the table serves as before, and the failed start removes "
                  "the copy. Look for writes made with the table's triggers disabled (ALTER TABLE "
                  "… DISABLE TRIGGER) while the copy runs; otherwise report this with the output "
                  "of `zerodown plan`.");
    }
    progress_.OnMessage(fmt::format(
        "checked the copy of {}: {} rows{} equal to the table, none extra ({:.0f} ms)", spec_.table,
        check.rows, check.percent < 100 ? fmt::format(" (a {:.2g}% sample)", check.percent) : "",
        check.seconds * 1000));
  }

  // A sequence behind a retyped key column (serial) is as wide as the old type: it would stop at
  // 2^31 - 1 under a bigint key. Widened with it (ALTER SEQUENCE … AS keeps its value): the
  // statements that do it.
  std::vector<std::string> WidenSequences(pg::Connection& c) {
    std::vector<std::string> out;
    static const std::map<std::string, int> kWidth = {
        {"smallint", 1}, {"integer", 2}, {"bigint", 3}};
    for (const auto& r : spec_.retyped) {
      pg::Rows rows = c.ExecPrepared(
          "SELECT s.oid::regclass::text, format_type(q.seqtypid, NULL), format_type(a.atttypid, "
          "NULL) FROM pg_attrdef ad JOIN pg_attribute a ON a.attrelid = ad.adrelid AND a.attnum "
          "= ad.adnum JOIN pg_depend d ON d.classid = 'pg_attrdef'::regclass AND d.objid = "
          "ad.oid AND d.refclassid = 'pg_class'::regclass JOIN pg_sequence q ON q.seqrelid = "
          "d.refobjid JOIN pg_class s ON s.oid = q.seqrelid WHERE ad.adrelid = $1::regclass AND "
          "a.attname = $2",
          {live_, r.name});
      for (int i = 0; i < rows.size(); ++i) {
        auto from = kWidth.find(rows.Text(i, 1));
        auto to = kWidth.find(rows.Text(i, 2));
        if (from == kWidth.end() || to == kWidth.end() || to->second <= from->second) continue;
        // Both names come from format_type: fixed keywords.
        out.push_back(fmt::format("ALTER SEQUENCE {} AS {}", rows.Text(i, 0), rows.Text(i, 2)));
      }
    }
    return out;
  }

  // The old heap stays for a rollback: without triggers or foreign keys of its own (the new heap
  // has them; a swap back re-creates them), frozen, while a reverse log on the new heap records
  // every key written from now on.
  void KeepOldHeap(pg::Connection& c, const Dependent& dependents,
                   const std::vector<IndexToBuild>& indexes) {
    for (const auto& name : dependents.triggers) {
      c.Exec(fmt::format("DROP TRIGGER {} ON {}", c.Ident(name), retired_));
    }
    for (const auto& name : dependents.outgoing_keys) {
      c.Exec(fmt::format("ALTER TABLE {} DROP CONSTRAINT {}", retired_, c.Ident(name)));
    }
    KeySql new_key = BuildKeySql(c, live_, spec_.key_columns);
    for (const auto& sql : LogSql(reverse_log_, spec_.reverse_log_function, live_, new_key.types)) {
      c.Exec(sql);
    }
    nlohmann::json renamed = nlohmann::json::array();
    for (const auto& index : indexes) {
      renamed.push_back(
          {{"oid", index.oid}, {"name", index.name}, {"constraint", index.constraint}});
    }
    checkpoint_["swapped_indexes"] = renamed;
  }

  // Validates the foreign keys a swap re-created NOT VALID (SHARE UPDATE EXCLUSIVE: writes go
  // on), each in its own transaction.
  void ValidateKeys() {
    for (const auto& item : checkpoint_.value("validate", nlohmann::json::array())) {
      std::string table = item.at(0).get<std::string>();
      std::string name = item.at(1).get<std::string>();
      Retry("validate foreign key " + name, [&](pg::Connection& c) {
        c.Exec(fmt::format("ALTER TABLE {} VALIDATE CONSTRAINT {}", table, name));
      });
    }
  }

  // After the swap: validate, then drop the old heap and the log, or only the log when the old
  // heap is kept until complete.
  void Finish() {
    ValidateKeys();
    try {
      Retry("drop the old heap of " + spec_.table, [&](pg::Connection& c) {
        if (spec_.keep_old_heap) {
          c.Exec(fmt::format("DROP FUNCTION IF EXISTS {}()", log_function_));
          c.Exec(fmt::format("DROP TABLE IF EXISTS {}", log_));
          return;
        }
        for (const auto& sql : spec_.CleanupSql(c)) c.Exec(sql);
      });
    } catch (const Error& error) {
      if (error.kind() == ErrorKind::kConnection) throw;
      // The swap is done and the new heap serves; a leftover copy must not undo the migration.
      progress_.OnMessage(fmt::format(
          "the old heap of {} could not be dropped ({}); drop {} once nothing refers to it",
          spec_.table, error.message(), retired_));
    }
    checkpoint_["stage"] = "done";
    pg::Transaction tx(conn_);
    Save();
    tx.Commit();
  }

 public:
  // CheckShadowSwapBack: see shadow_copy.hpp.
  void CheckSwapBack() {
    if (!conn_.Exec("SELECT to_regclass($1) IS NOT NULL", {retired_}).Bool(0, 0)) return;
    key_ = BuildKeySql(conn_, live_, spec_.key_columns);
    pg::Rows columns = OldHeapColumns();
    std::string casts;
    for (int i = 0; i < columns.size(); ++i) {
      casts += fmt::format("{}CAST({} AS {})", i ? ", " : "", conn_.Ident(columns.Text(i, 0)),
                           columns.Text(i, 1));
    }
    // count(ROW(…)::text) evaluates every cast; count(*) over a subquery would skip them.
    auto result = conn_.TryExec(
        fmt::format("SELECT count(ROW({})::text) FROM {} WHERE ({}) IN (SELECT {} FROM {})", casts,
                    live_, key_.list, key_.list, reverse_log_));
    if (!result.ok()) {
      throw DoesNotFit(result.error(),
                       "Complete the migration instead (the new types hold those rows), or change "
                       "those rows so they fit the old types and roll back again.");
    }
  }

  // RunShadowSwapBack: see shadow_copy.hpp.
  void SwapBack(const nlohmann::json& forward) {
    key_ = BuildKeySql(conn_, live_, spec_.key_columns);
    bool old_heap = conn_.Exec("SELECT to_regclass($1) IS NOT NULL", {retired_}).Bool(0, 0);
    if (!checkpoint_.contains("stage") && old_heap) {
      try {
        CatchUp(Reverse(), options_.swap_when_log_below);
        SwapUnderLock("swap the old heap of " + spec_.table + " back in",
                      "swapped the old heap of " + spec_.table + " back in", Reverse(), {retired_},
                      true, [&](pg::Connection& c, const Dependent& dependents) {
                        SwapBackUnderLock(c, dependents, forward);
                      });
      } catch (const Error& error) {
        if (error.sqlstate().rfind("22", 0) != 0) throw;
        // A row written after the check in CheckShadowSwapBack. The swap back did not happen.
        throw DoesNotFit(error,
                         "Change those rows so they fit the old types and run `zerodown "
                         "rollback` again (the rollback is half-way: complete is not possible).");
      }
    }
    if (Stage() == "swapped") {
      CrashPoint("swapped_back");
      ValidateKeys();
      checkpoint_["stage"] = "done";
      pg::Transaction tx(conn_);
      Save();
      tx.Commit();
    }
  }

 private:
  // A data exception while copying back (SQLSTATE class 22): a row written since the swap does
  // not fit the old heap's types, such as a key beyond 2^31 - 1 for an integer.
  Error DoesNotFit(const Error& cause, std::string fix) const {
    return Error(ErrorKind::kMigrationFailed,
                 fmt::format("rows written to {} since the swap do not fit its old heap: {}",
                             spec_.table, cause.message()),
                 std::move(fix));
  }

  pg::Rows OldHeapColumns() {
    return conn_.Exec(
        "SELECT attname, format_type(atttypid, atttypmod) FROM pg_attribute WHERE attrelid = "
        "$1::regclass AND attnum > 0 AND NOT attisdropped AND attgenerated = '' ORDER BY attnum",
        {retired_});
  }

  void SwapBackUnderLock(pg::Connection& c, const Dependent& dependents,
                         const nlohmann::json& forward) {
    for (const auto& sql : DropLogTriggersSql(c, spec_.reverse_log_function, live_)) c.Exec(sql);
    std::vector<std::string> after;
    for (const auto& index : forward.value("swapped_indexes", nlohmann::json::array())) {
      std::string oid = index.at("oid").get<std::string>();
      std::string name = index.at("name").get<std::string>();
      std::string old_name = "_zd_old_" + oid;
      if (index.at("constraint").get<std::string>().empty()) {
        c.Exec(fmt::format("ALTER INDEX {} RENAME TO {}", c.Ident(spec_.schema, name),
                           c.Ident("_zd_back_" + oid)));
        after.push_back(fmt::format("ALTER INDEX {} RENAME TO {}", c.Ident(spec_.schema, old_name),
                                    c.Ident(name)));
      } else {
        c.Exec(fmt::format("ALTER TABLE {} RENAME CONSTRAINT {} TO {}", live_, c.Ident(name),
                           c.Ident("_zd_back_" + oid)));
        after.push_back(fmt::format("ALTER TABLE {} RENAME CONSTRAINT {} TO {}", retired_,
                                    c.Ident(old_name), c.Ident(name)));
      }
    }
    for (const auto& sql : after) c.Exec(sql);
    c.Exec(fmt::format("ALTER TABLE {} RENAME TO {}", live_, c.Ident(spec_.shadow)));
    c.Exec(fmt::format("ALTER TABLE {} RENAME TO {}", retired_, c.Ident(spec_.table)));
    CarryIdentitySequences(c, shadow_, live_);
    for (const auto& sql : dependents.statements) c.Exec(sql);
    nlohmann::json validate = nlohmann::json::array();
    for (const auto& [table, name] : dependents.to_validate) validate.push_back({table, name});
    checkpoint_["stage"] = "swapped";
    checkpoint_["validate"] = validate;
  }

  pg::Connection& conn_;
  const ShadowCopySpec& spec_;
  const ShadowCopyOptions& options_;
  nlohmann::json checkpoint_;
  const SaveCheckpoint& save_;
  ProgressSink& progress_;
  std::string live_;
  std::string shadow_;
  std::string retired_;
  std::string log_;
  std::string log_function_;
  std::string reverse_log_;
  KeySql key_;
  std::optional<ReplayPath> forward_;
  std::optional<ReplayPath> reverse_;
  std::int64_t pruned_through_ = 0;      // the log's newest entry at the copy's last prune
  ReplayMs replay_ms_;                   // since its last reset
  std::vector<pg::Connection> helpers_;  // see Helpers
  bool helpers_refused_ = false;
  std::map<std::string, std::size_t> replay_batch_tables_;  // batch table -> helpers that have it
  std::map<std::string, bool> unique_beyond_key_;           // see UniqueBeyondKey
  ShadowCopyReport report_;
};

}  // namespace

std::optional<CopyCheckMode> CopyCheckModeFromName(std::string_view name) {
  if (name == "off") return CopyCheckMode::kOff;
  if (name == "sample") return CopyCheckMode::kSample;
  if (name == "full") return CopyCheckMode::kFull;
  return std::nullopt;
}

nlohmann::json ShadowCopySpec::ToJson() const {
  nlohmann::json added_json = nlohmann::json::array();
  for (const auto& a : added) {
    added_json.push_back({{"name", a.name}, {"type", a.type}, {"expression", a.expression}});
  }
  nlohmann::json names_json = nlohmann::json::array();
  for (const auto& n : names) {
    names_json.push_back({{"physical", n.physical}, {"name", n.name}, {"type", n.type}});
  }
  nlohmann::json retyped_json = nlohmann::json::array();
  for (const auto& r : retyped) {
    retyped_json.push_back({{"name", r.name}, {"type", r.type}, {"expression", r.expression}});
  }
  return {{"schema", schema},
          {"table", table},
          {"retyped", retyped_json},
          {"keep_old_heap", keep_old_heap},
          {"reverse_log_table", reverse_log_table},
          {"reverse_log_function", reverse_log_function},
          {"key_columns", key_columns},
          {"shadow", shadow},
          {"retired", retired},
          {"log_table", log_table},
          {"log_function", log_function},
          {"added", added_json},
          {"names", names_json},
          {"after_swap_sql", after_swap_sql}};
}

ShadowCopySpec ShadowCopySpec::FromJson(const nlohmann::json& json) {
  ShadowCopySpec spec;
  spec.schema = json.at("schema").get<std::string>();
  spec.table = json.at("table").get<std::string>();
  spec.key_columns = json.at("key_columns").get<std::vector<std::string>>();
  spec.shadow = json.at("shadow").get<std::string>();
  spec.retired = json.at("retired").get<std::string>();
  spec.log_table = json.at("log_table").get<std::string>();
  spec.log_function = json.at("log_function").get<std::string>();
  for (const auto& a : json.at("added")) {
    spec.added.push_back({a.at("name").get<std::string>(), a.at("type").get<std::string>(),
                          a.at("expression").get<std::string>()});
  }
  for (const auto& n : json.at("names")) {
    spec.names.push_back({n.at("physical").get<std::string>(), n.at("name").get<std::string>(),
                          n.at("type").get<std::string>()});
  }
  spec.after_swap_sql = json.at("after_swap_sql").get<std::vector<std::string>>();
  // Plans saved before these keys existed have no retyped column and drop the old heap.
  for (const auto& r : json.value("retyped", nlohmann::json::array())) {
    spec.retyped.push_back({r.at("name").get<std::string>(), r.at("type").get<std::string>(),
                            r.at("expression").get<std::string>()});
  }
  spec.keep_old_heap = json.value("keep_old_heap", false);
  spec.reverse_log_table = json.value("reverse_log_table", std::string());
  spec.reverse_log_function = json.value("reverse_log_function", std::string());
  return spec;
}

ShadowCopySpec ShadowCopySpec::Named(const std::string& schema, const std::string& table,
                                     const std::string& migration) {
  ShadowCopySpec spec;
  spec.schema = schema;
  spec.table = table;
  spec.shadow = PlanContext::TempName("_zd_shadow_", table);
  spec.retired = PlanContext::TempName("_zd_retired_", table);
  // The logs live in the zerodown schema, shared by every schema's migrations: the same
  // migration file run on two schemas at once (one per tenant) must not share a log, or one
  // run's replay would take the other's entries and lose those writes.
  std::string scope = schema + "_" + migration + "_" + table;
  spec.log_table = PlanContext::TempName("log_", scope);
  spec.log_function = PlanContext::TempName("_zd_log_", scope);
  spec.reverse_log_table = PlanContext::TempName("rlog_", scope);
  spec.reverse_log_function = PlanContext::TempName("_zd_rlog_", scope);
  return spec;
}

std::vector<std::string> ShadowCopySpec::CleanupSql(pg::Connection& conn) const {
  std::string live = conn.Ident(schema, table);
  // The log's triggers are on the live heap before the swap and gone with the old one after.
  std::vector<std::string> sql = DropLogTriggersSql(conn, log_function, live);
  std::vector<std::string> drops = {
      fmt::format("DROP TABLE IF EXISTS {}", conn.Ident(schema, retired)),
      fmt::format("DROP TABLE IF EXISTS {}", conn.Ident(schema, shadow)),
      fmt::format("DROP FUNCTION IF EXISTS {}()", conn.Ident("zerodown", log_function)),
      fmt::format("DROP TABLE IF EXISTS {}", conn.Ident("zerodown", log_table)),
  };
  sql.insert(sql.end(), drops.begin(), drops.end());
  if (!reverse_log_function.empty()) {
    // On the new heap from the swap on, until complete or a swap back.
    std::vector<std::string> reverse = DropLogTriggersSql(conn, reverse_log_function, live);
    sql.insert(sql.begin(), reverse.begin(), reverse.end());
    sql.push_back(
        fmt::format("DROP FUNCTION IF EXISTS {}()", conn.Ident("zerodown", reverse_log_function)));
    sql.push_back(
        fmt::format("DROP TABLE IF EXISTS {}", conn.Ident("zerodown", reverse_log_table)));
  }
  return sql;
}

std::vector<std::string> ShadowCopyBlockers(pg::Connection& conn, const std::string& schema,
                                            const std::string& table) {
  std::string qualified = conn.Ident(schema, table);
  pg::Rows rows = conn.Exec(
      "SELECT c.relkind = 'p', "
      "EXISTS (SELECT 1 FROM pg_inherits WHERE inhrelid = c.oid OR inhparent = c.oid), "
      "c.relrowsecurity OR EXISTS (SELECT 1 FROM pg_policy WHERE polrelid = c.oid), "
      "EXISTS (SELECT 1 FROM pg_publication_rel WHERE prrelid = c.oid), "
      "EXISTS (SELECT 1 FROM pg_rewrite WHERE ev_class = c.oid), "
      "EXISTS (SELECT 1 FROM pg_constraint WHERE conrelid = c.oid AND contype = 'x'), "
      "EXISTS (SELECT 1 FROM pg_depend d JOIN pg_rewrite r ON r.oid = d.objid JOIN pg_class m ON "
      "m.oid = r.ev_class WHERE d.classid = 'pg_rewrite'::regclass AND d.refobjid = c.oid AND "
      "m.relkind = 'm'), "
      "EXISTS (SELECT 1 FROM pg_depend d WHERE d.classid = 'pg_proc'::regclass AND d.refobjid = "
      "c.oid) FROM pg_class c WHERE c.oid = $1::regclass",
      {qualified});
  static constexpr const char* kWhy[] = {
      "it is partitioned",
      "it has inheritance parents or children",
      "it has row-level security",
      "it is in a publication (logical replication would lose it at the swap)",
      "it has rules",
      "it has an exclusion constraint",
      "a materialized view reads it",
      "a function body (BEGIN ATOMIC) refers to it",
  };
  std::vector<std::string> why;
  if (rows.empty()) return why;
  for (int i = 0; i < rows.columns(); ++i) {
    if (rows.Bool(0, i)) why.emplace_back(kWhy[i]);
  }
  return why;
}

TableEstimate EstimateTable(pg::Connection& conn, const std::string& schema,
                            const std::string& table) {
  pg::Rows rows = conn.Exec(
      "SELECT greatest(c.reltuples, 0)::bigint, pg_table_size(c.oid), pg_indexes_size(c.oid), "
      "(SELECT count(*) FROM pg_index WHERE indrelid = c.oid) FROM pg_class c WHERE c.oid = "
      "$1::regclass",
      {conn.Ident(schema, table)});
  TableEstimate e;
  if (rows.empty()) return e;
  e.rows = rows.Int(0, 0);
  e.table_bytes = rows.Int(0, 1);
  e.index_bytes = rows.Int(0, 2);
  e.indexes = static_cast<int>(rows.Int(0, 3));
  return e;
}

ShadowCopyReport RunShadowCopy(pg::Connection& conn, const ShadowCopySpec& spec,
                               const ShadowCopyOptions& options, const nlohmann::json& checkpoint,
                               const SaveCheckpoint& save, ProgressSink& progress) {
  return ShadowCopyRun(conn, spec, options, checkpoint, save, progress).Run();
}

void CheckShadowSwapBack(pg::Connection& conn, const ShadowCopySpec& spec) {
  ShadowCopyOptions options;
  SilentProgress silent;
  SaveCheckpoint save = [](pg::Connection&, const nlohmann::json&, std::int64_t, std::int64_t) {};
  ShadowCopyRun(conn, spec, options, nlohmann::json(), save, silent).CheckSwapBack();
}

void RunShadowSwapBack(pg::Connection& conn, const ShadowCopySpec& spec,
                       const ShadowCopyOptions& options, const nlohmann::json& forward,
                       const nlohmann::json& checkpoint, const SaveCheckpoint& save,
                       ProgressSink& progress) {
  ShadowCopyRun(conn, spec, options, checkpoint, save, progress).SwapBack(forward);
}

}  // namespace zerodown::engine
