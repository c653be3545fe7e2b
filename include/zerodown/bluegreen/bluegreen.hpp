// Blue-green on PostgreSQL 15: a second database (green) with blue's schema, kept in sync by
// native logical replication (publication on the serving side, subscription on the other), a
// switch that fences the serving side, waits for the other to have applied everything, copies
// the sequences and builds the reverse path before the first write lands there, and teardown.
// Traffic moves through a running `zerodown proxy` (its admin endpoint), PgBouncer (its admin
// console and ini file) or the caller's hooks (a script) that pause, switch and resume the
// application. State lives in the `zerodown` schema of both databases.
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "zerodown/common/error.hpp"
#include "zerodown/common/progress.hpp"
#include "zerodown/engine/engine.hpp"
#include "zerodown/model/operations.hpp"
#include "zerodown/pg/connection.hpp"

namespace zerodown::bluegreen {

enum class Side { kBlue, kGreen };
std::string_view SideName(Side side);
inline Side Other(Side side) { return side == Side::kBlue ? Side::kGreen : Side::kBlue; }

// The two databases, each with a conninfo the *other* server can use to reach it (the
// subscription's CONNECTION). Owns both connections.
class Pair {
 public:
  // `blue_for_green` / `green_for_blue`: "" derives them from the live connections (host, port,
  // dbname, user, password as libpq used them), which suits servers on one host or network.
  Pair(pg::Connection blue, pg::Connection green, std::string blue_for_green = {},
       std::string green_for_blue = {});

  pg::Connection& Of(Side side) { return side == Side::kBlue ? blue_ : green_; }
  // How the other side's server reaches `side`.
  const std::string& ConnInfoOf(Side side) const {
    return side == Side::kBlue ? blue_conninfo_ : green_conninfo_;
  }
  // The oid of `side`'s database: it names the pair's slots, which are server-wide, so that two
  // pairs on one server never share one.
  const std::string& DatabaseOid(Side side) const {
    return side == Side::kBlue ? blue_oid_ : green_oid_;
  }

 private:
  pg::Connection blue_;
  pg::Connection green_;
  std::string blue_conninfo_;
  std::string green_conninfo_;
  std::string blue_oid_;
  std::string green_oid_;
};

// A line of progress for the terminal ("fenced blue (12 tables) in 4 ms").
using Progress = std::function<void(std::string_view)>;

struct CreateOptions {
  // pg_dump and psql live here ("" = $ZERODOWN_PG_BINDIR, then the compiled-in default).
  std::string bindir;
};

struct CreateReport {
  std::vector<std::string> tables;  // "schema"."table", as published
  std::string fingerprint;
};

// Checks blue (every table logical replication cannot carry is named with its fix, and nothing
// changes when one is found: kInvalidMigration), copies blue's schema into the empty green
// (pg_dump --schema-only), creates the publications, the slot on blue and green's subscription
// with the initial copy, and records the state on both sides. Refuses (kConflict) when green is
// not empty or a blue-green pair already exists.
Result<CreateReport> Create(Pair& pair, const CreateOptions& options, const Progress& progress);

struct Guardrail {
  // "switch", "subscription", "initial copy", "lag", "long transaction", "maintenance", "schema"
  std::string name;
  bool ok = false;
  std::string detail;  // what was measured, and the fix when not ok
  // Clears by itself on a healthy pair (lag, a long transaction): a switch waits for it.
  bool transient = false;
};

// The zerodown migration `bluegreen start` ran on green, as the pair's state records it.
struct GreenMigration {
  std::string name;
  std::string phase;           // "started", then "completed"
  std::string version_schema;  // where the new version's views live on green
};

struct StatusReport {
  Side serving = Side::kBlue;
  std::string phase;  // "replicating", or "switching" while a switch runs (or was killed)
  std::optional<std::int64_t>
      lag_bytes;                      // WAL of the serving side its subscriber has not confirmed
  std::optional<double> lag_seconds;  // how long a heartbeat took to arrive, or a lower bound
  int tables_total = 0;
  int tables_ready = 0;                     // pg_subscription_rel state 'r'
  std::vector<std::string> tables_copying;  // "schema.table (d: copying)"
  std::vector<Guardrail> guardrails;
  std::optional<GreenMigration> migration;  // run on green by `bluegreen start`, if any
};

struct StatusOptions {
  // Longest wait for the heartbeat written now to arrive on the receiving side.
  std::chrono::milliseconds heartbeat_wait{1000};
  double max_lag_seconds = 1.0;
  std::int64_t max_lag_bytes = 16 * 1024 * 1024;
  std::chrono::seconds max_transaction_age{5};
};

// Writes one heartbeat on the serving side and measures lag, copy progress and the guardrails of
// a switch. Changes nothing else. kNotFound when no blue-green pair exists.
Result<StatusReport> Inspect(Pair& pair, const StatusOptions& options);
// One heartbeat on the serving side (for `status --watch`, twice a second). A fenced side refuses
// it; that is not an error.
void Heartbeat(Pair& pair);

// Shell commands run through /bin/sh -c with ZERODOWN_BLUEGREEN_FROM / _TO set to blue or green
// and their stdout sent to stderr. "" skips one. Each must end within the step timeout.
struct Hooks {
  std::string pause;   // stop sending new transactions, and return once in-flight ones ended
  std::string move;    // send traffic to $ZERODOWN_BLUEGREEN_TO from now on
  std::string resume;  // let traffic flow again
};

// A running `zerodown proxy` whose targets are blue and green, driven through its admin endpoint
// (PAUSE within the step timeout, SWITCH, RESUME) instead of hooks.
struct ProxyControl {
  std::string admin;  // host:port of its --admin endpoint; "" = the hooks move traffic
  std::string blue_target = "blue";  // the proxy's --target names of the two sides
  std::string green_target = "green";
};

// PgBouncer in front of the application, driven through its admin console (PAUSE, RELOAD,
// RESUME, SHOW DATABASES: the simple query protocol only) and its ini file, whose [databases]
// line for `database` the switch points at the other side's host, port and dbname (as zerodown
// reaches that side) before RELOAD.
struct PgBouncerControl {
  std::string console;   // libpq URL of the console (dbname pgbouncer); "" = not used
  std::string database;  // the [databases] entry the application connects to
  std::string ini;       // the ini file PgBouncer was started with (it must be writable)
};

struct SwitchOptions {
  Hooks hooks;
  // At most one of the proxy, PgBouncer and the hooks moves traffic (more: kUsage).
  ProxyControl proxy;
  PgBouncerControl pgbouncer;
  bool back = false;  // green -> blue
  std::chrono::milliseconds step_timeout{10000};
  StatusOptions guardrails;
  // How long a switch waits for guardrails that clear by themselves (lag, a long transaction)
  // before it refuses; 0 refuses on the first look.
  std::chrono::milliseconds guardrail_wait{30000};
  std::int64_t sequence_margin = 1000;
};

struct SwitchReport {
  Side from = Side::kBlue;
  Side to = Side::kGreen;
  bool switched = false;  // false: a killed switch was undone and nothing else ran
  double pause_ms = 0;    // pause hook started -> resume hook ended
  std::vector<std::pair<std::string, double>> steps_ms;  // each step and how long it took
  double lag_seconds_before = 0;
};

// The switch (see docs/bluegreen.md): guardrails, pause, fence, wait, sequences, reverse path,
// move, resume. kUsage before anything when more than one traffic mover is given. Lag and long
// transactions are waited out for up to `guardrail_wait`; a guardrail that still fails refuses
// before anything changes (kConflict); a step that fails or passes its timeout undoes what ran,
// resumes on the side that served, and fails with kMigrationFailed. A switch killed midway is
// finished (traffic had moved) or undone by the next run, which reports switched = false in the
// second case.
Result<SwitchReport> Switch(Pair& pair, const SwitchOptions& options, const Progress& progress);

// Runs `migration`'s start (the engine's expand, in place) on green only, while blue serves and
// its changes keep arriving: the engine's sync triggers fire for them too (ENABLE ALWAYS), so
// blue's rows are transformed like the old version's writes. Refuses before anything changes:
// kNotFound without a pair; kConflict when green serves, a switch is recorded, the subscription
// is unhealthy or its initial copy unfinished; kInvalidMigration for what logical replication
// does not tolerate on the subscriber (a drop or rename of a published column or table, the
// replica identity or a key column, the shadow strategy), naming the operation and the fix.
// Afterwards green's publication carries only the columns blue has (the way back after a
// switch) and the pair's state names the migration. Engine failures throw, as Engine::Start.
Result<engine::MigrationRecord> StartOnGreen(Pair& pair, const model::Migration& migration,
                                             engine::EngineOptions options, ProgressSink& progress);
// Runs the complete (contract) of the migration `name` started by StartOnGreen, on green, while
// blue serves. Refused (kConflict, nothing changed) when no such migration is started there,
// when green serves, or when an operation needs its trigger for blue's rows (an `up` other than
// the column or a plain cast of it): then the fix is to switch, finish, and complete on green.
Result<engine::MigrationRecord> CompleteOnGreen(Pair& pair, const std::string& name,
                                                engine::EngineOptions options,
                                                ProgressSink& progress);
// Rolls back, on green, the migration `name` StartOnGreen started there, while blue serves: the
// engine's rollback drops what the start added, green's publication lists blue's columns again
// and the pair's state forgets the migration, so `bluegreen start` may run again. Refused
// (kConflict, nothing changed) as CompleteOnGreen is.
Result<engine::MigrationRecord> RollbackOnGreen(Pair& pair, const std::string& name,
                                                engine::EngineOptions options,
                                                ProgressSink& progress);

// finish: drops subscriptions, slots, publications, heartbeat and state on both sides; the side
// that does not serve keeps its fence (its writes fail) so nothing writes there by mistake.
// abort: the same, allowed only while blue serves, and the fence goes too. Both are safe to run
// again after a failure.
Status Finish(Pair& pair, bool abort, const Progress& progress);

struct UnfenceReport {
  std::vector<std::string> tables;  // the tables whose fence was lifted; empty: none was fenced
  std::optional<Side> side;         // the side of a pair `conn` still is, if any
};

// `bluegreen unfence`: lifts the write fence of one database, the one `finish` left on the side
// that no longer serves, or the one green keeps in a pair after a switch back (blue serving: the
// pair is then as `create` left it). Drops every fence trigger in one transaction that waits at
// most `lock_timeout` for each table's lock; after `finish`, the fence function too. Refused
// (kConflict, nothing changed) while a switch is recorded or when `conn` is the side that serves.
Result<UnfenceReport> LiftFence(pg::Connection& conn, std::chrono::milliseconds lock_timeout);

}  // namespace zerodown::bluegreen
