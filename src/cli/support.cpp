#include "cli/support.hpp"

#include <fmt/format.h>

#include <filesystem>
#include <iostream>
#include <nlohmann/json.hpp>

#include "cli/file_limit.hpp"
#include "cli/progress.hpp"
#include "zerodown/model/migration_reader.hpp"
#include "zerodown/monitor/control.hpp"
#include "zerodown/monitor/session.hpp"
#include "zerodown/sql/rebuild_clauses.hpp"
#include "zerodown/sql/sql_down.hpp"
#include "zerodown/sql/translate.hpp"

namespace zerodown::cli {

nlohmann::json RecordJson(const engine::MigrationRecord& record) {
  return {{"migration", record.name}, {"phase", std::string(engine::PhaseName(record.phase))}};
}

pg::Connection Connect(const GlobalOptions& global) {
  pg::Connection conn = pg::Connection::Open(global.postgres_url);
  if (global.verbose) {
    conn.SetStatementHook([](std::string_view sql) { std::cerr << "sql: " << sql << "\n"; });
  }
  conn.SetNoticeHandler([verbose = global.verbose](std::string_view notice) {
    if (verbose) std::cerr << "server: " << notice << "\n";
  });
  return conn;
}

namespace {

void AddHealthFlags(CLI::App* command, EngineFlags& flags) {
  command
      ->add_option("--alert-error-rate", flags.alert_error_rate,
                   "alert when this share of the application's transactions rolls back (zerodown's "
                   "own are not counted; 0: off)")
      ->capture_default_str()
      ->check(CLI::Range(0.0, 1.0));
  command
      ->add_option("--rollback-error-rate", flags.rollback_error_rate,
                   "with --auto-rollback, roll back when this share of the application's "
                   "transactions rolls back for 2 verdicts in a row (0: off)")
      ->capture_default_str()
      ->check(CLI::Range(0.0, 1.0));
  command
      ->add_option("--alert-latency-ratio", flags.alert_latency_ratio,
                   "alert when the application's statements (or the probe) take this many times "
                   "longer than before the migration, and --latency-margin more (0: off)")
      ->capture_default_str();
  command
      ->add_option("--rollback-latency-ratio", flags.rollback_latency_ratio,
                   "with --auto-rollback, roll back when the application's statements (or the "
                   "probe) take this many times longer than before the migration, and "
                   "--latency-margin more, for --latency-sustain verdicts in a row (0: off)")
      ->capture_default_str();
  command
      ->add_option("--latency-margin", flags.latency_margin_ms,
                   "milliseconds a latency must grow by, beside the ratio, to count as degraded: "
                   "1 ms becoming 2.5 ms harms nobody")
      ->capture_default_str()
      ->check(CLI::Range(0, 600000));
  command
      ->add_option("--latency-sustain", flags.latency_sustain,
                   "degraded latency verdicts (one a second, each over the last 3 s) in a row "
                   "before --auto-rollback acts on latency")
      ->capture_default_str()
      ->check(CLI::Range(1, 3600));
}

// The batches' target time and the lock retries.
void AddPacingFlags(CLI::App* command, EngineFlags& flags) {
  command
      ->add_option("--chunk-time", flags.chunk_time_ms,
                   "target milliseconds per backfill batch; the batch size adapts to it, and "
                   "it bounds how long a batch holds the rows it touches")
      ->capture_default_str()
      ->check(CLI::Range(5, 10000));
  command
      ->add_option("--max-lock-attempts", flags.max_lock_attempts,
                   "how many times a DDL retries after lock_timeout before giving up")
      ->capture_default_str()
      ->check(CLI::Range(1, 100000));
}

// What pauses the batches: a file, standby lag, a slow probe, lock waiters, busy sessions.
void AddThrottleFlags(CLI::App* command, EngineFlags& flags) {
  command->add_option("--pause-file", flags.pause_file,
                      "no backfill batch runs while this file exists");
  command->add_option("--max-lag", flags.max_lag,
                      "pause batches while a standby's replay lags more than this: a size "
                      "(64MB) or a time (30s); default 128MB and 10s");
  command
      ->add_option("--max-probe-latency-ratio", flags.max_probe_latency_ratio,
                   "pause batches while a probe query is this many times slower than before "
                   "the migration")
      ->capture_default_str();
  command
      ->add_option("--probe-query", flags.probe_query,
                   "the query timed against its own baseline for --max-probe-latency-ratio and "
                   "--auto-rollback when pg_stat_statements is absent (one of the application's "
                   "cheap reads is a better probe than SELECT 1)")
      ->capture_default_str();
  command
      ->add_option("--max-lock-waiters", flags.max_lock_waiters,
                   "pause batches while more sessions than this wait over 200 ms on a lock we "
                   "hold or on the migrating table (0: no limit)")
      ->capture_default_str()
      ->check(CLI::Range(0, 10000));
  command
      ->add_option("--max-active", flags.max_active,
                   "pause batches while more sessions than this are active (0: no limit)")
      ->capture_default_str();
  command
      ->add_option("--headroom", flags.headroom,
                   "copy and backfill only in the application's headroom: wait while it has more "
                   "sessions active than before the migration by more than this many (or twice "
                   "as many, whichever is more), which means its statements queue behind ours; "
                   "each such wait lasts at most three times as long as the work ran before it, "
                   "so the work always finishes. An application that kept more than half its "
                   "connections busy before cannot cross the line: the work then runs at full "
                   "speed with two sessions (0: never wait for headroom)")
      ->capture_default_str()
      ->check(CLI::NonNegativeNumber);
}

// Metrics, health checks and what they do.
void AddMonitorFlags(CLI::App* command, EngineFlags& flags) {
  command->add_option("--metrics-addr", flags.metrics_addr,
                      "serve Prometheus metrics on host:port while the command runs");
  command->add_flag("--auto-rollback", flags.auto_rollback,
                    "roll the migration back by itself when the database's error rate or "
                    "latency crosses the rollback thresholds (docs/monitoring.md)");
  AddHealthFlags(command, flags);
  command->add_option("--on-alert", flags.on_alert, "command to run when a health check alerts");
}

// How a change that rewrites every row moves the data, and a shadow copy's sessions.
void AddMechanismFlags(CLI::App* command, EngineFlags& flags) {
  command
      ->add_option("--mechanism", flags.mechanism,
                   "how a change that rewrites every row moves the data: inplace (batched UPDATEs "
                   "in the live heap), shadow (a copy into a new heap, swapped in), auto (shadow "
                   "from 100,000 rows; `zerodown plan` says why)")
      ->check(CLI::IsMember({"auto", "inplace", "shadow"}))
      ->capture_default_str();
  command
      ->add_option("--verify-before-swap", flags.verify_before_swap,
                   "what a shadow copy compares with the live table before it is swapped in "
                   "(rows written since the last replay skipped): sample (about 10,000 rows, "
                   "0.5-1 s on a busy server), full (every row: a pass over both heaps) or off; a "
                   "difference fails the start and the table keeps serving")
      ->check(CLI::IsMember({"sample", "full", "off"}))
      ->capture_default_str();
  command
      ->add_option("--replay-sessions", flags.replay_sessions,
                   "connections that replay a shadow copy's change log side by side before its "
                   "swap (and the old heap's, for a rollback after it), each a share of the keys: "
                   "2 catches up with a busy table in about half "
                   "the time, and less work in all (the writes it trails are replayed too); 1 "
                   "takes the least CPU at any moment. A table with a unique index over other "
                   "columns than its key is replayed by one session, the whole log per snapshot. "
                   "Default: 1 when the application leaves headroom (--headroom), else 2")
      ->check(CLI::Range(1, 8));
  command
      ->add_option("--copy-sessions", flags.copy_sessions,
                   "connections that copy a table with a single integer key side by side in a "
                   "shadow copy, each its own range of keys: 2 finishes in about three quarters "
                   "of the time and costs the application fewer transactions in all (the change "
                   "log's trigger and the replay cost it per second the copy lasts); 1 takes "
                   "the least CPU at any moment. Other keys are copied by one session. Default: 1 "
                   "when the application leaves headroom (--headroom), else 2")
      ->check(CLI::Range(1, 8));
}

}  // namespace

void AddEngineFlags(CLI::App* command, EngineFlags& flags) {
  AddPacingFlags(command, flags);
  AddThrottleFlags(command, flags);
  AddMonitorFlags(command, flags);
  AddMechanismFlags(command, flags);
  command->add_flag("--no-wait", flags.no_wait,
                    "refuse at once, instead of waiting, when another zerodown is working on "
                    "the same schema");
}

engine::EngineOptions MakeEngineOptions(const GlobalOptions& global, const EngineFlags& flags) {
  engine::EngineOptions options;
  options.schema = global.schema;
  options.lock.lock_timeout = std::chrono::milliseconds(global.lock_timeout_ms);
  options.lock.max_attempts = flags.max_lock_attempts;
  options.backfill.chunk_time = std::chrono::milliseconds(flags.chunk_time_ms);
  options.wait_for_other_run = !flags.no_wait;
  options.mechanism = engine::MechanismFromName(flags.mechanism).value_or(engine::Mechanism::kAuto);
  options.check_before_swap = engine::CopyCheckModeFromName(flags.verify_before_swap)
                                  .value_or(engine::CopyCheckMode::kSample);
  // 0: the engine's default here; MigrationSession sizes them to the application's headroom.
  if (flags.replay_sessions > 0) options.replay_sessions = flags.replay_sessions;
  if (flags.copy_sessions > 0) options.copy_sessions = flags.copy_sessions;
  return options;
}

struct MigrationSession::Parts {
  std::unique_ptr<ProgressSink> text;
  std::unique_ptr<monitor::Session> monitor;
};

namespace {

// The throttle's and the health checks' settings from the command's flags.
monitor::SessionOptions MonitorOptions(const GlobalOptions& global, const EngineFlags& flags,
                                       bool health_checks, const std::string& watched_url) {
  monitor::SessionOptions o;
  o.conninfo = watched_url.empty() ? global.postgres_url : watched_url;
  o.metrics_addr = flags.metrics_addr;
  o.health_checks = health_checks;
  o.throttle.schema = global.schema;
  o.throttle.pause_file = flags.pause_file;
  auto& limits = o.throttle.limits;
  limits.max_probe_latency_ratio = flags.max_probe_latency_ratio;
  limits.max_active = flags.max_active;
  limits.headroom_slack = flags.headroom;
  limits.max_lock_waiters = flags.max_lock_waiters;
  o.throttle.probe_query = flags.probe_query;
  o.health.probe_query = flags.probe_query;
  if (!flags.max_lag.empty()) {
    auto lag = monitor::ParseLagLimit(flags.max_lag).ValueOrThrow();
    if (lag.bytes) {
      limits.max_lag_bytes = *lag.bytes;
      limits.max_lag_seconds = 0;
    } else {
      limits.max_lag_seconds = *lag.seconds;
      limits.max_lag_bytes = 0;
    }
  }
  o.health.auto_rollback = flags.auto_rollback;
  auto& t = o.health.thresholds;
  t.alert_error_rate = flags.alert_error_rate;
  t.rollback_error_rate = flags.rollback_error_rate;
  t.alert_latency_ratio = flags.alert_latency_ratio;
  t.rollback_latency_ratio = flags.rollback_latency_ratio;
  t.latency_margin = std::chrono::milliseconds(flags.latency_margin_ms);
  o.health.latency_sustain = flags.latency_sustain;
  o.health.on_alert = flags.on_alert;
  return o;
}

}  // namespace

MigrationSession::MigrationSession(const GlobalOptions& global, const EngineFlags& flags,
                                   bool health_checks, const std::string& watched_url)
    : options_(MakeEngineOptions(global, flags)), parts_(std::make_unique<Parts>()) {
  parts_->text = MakeProgress(global);
  // Built before the engine runs, so the probe baselines are taken on an unloaded server.
  parts_->monitor = std::make_unique<monitor::Session>(
      MonitorOptions(global, flags, health_checks, watched_url), *parts_->text);
  monitor::Session* session = parts_->monitor.get();
  options_.backfill.before_batch = [session] { session->BeforeBatch(); };
  options_.backfill.settle = [session](const std::string& after) { session->Settle(after); };
  // The throttler reads the control rows before a batch (at most once a second); asking it costs
  // no query.
  options_.backfill.chunk_time_source = [session, fallback = options_.backfill.chunk_time] {
    return session->throttler().ChunkTime().value_or(fallback);
  };
  options_.before_cutover = [session] { session->BeforeCutover(); };
  SizeToHeadroom(flags);
}

// Where the application leaves headroom, one session each: a second one takes CPU its queries
// need. Where it keeps every connection busy (or there is none), two finish sooner, and a
// shorter copy costs it less in all (docs/monitoring.md, Headroom).
void MigrationSession::SizeToHeadroom(const EngineFlags& flags) {
  monitor::Throttler& throttler = parts_->monitor->throttler();
  bool headroom = throttler.ApplicationLeavesHeadroom();
  int sized = headroom ? 1 : 2;
  if (flags.copy_sessions == 0) options_.copy_sessions = sized;
  if (flags.replay_sessions == 0) {
    options_.replay_sessions = sized;
    // A catch-up the application's writes keep long takes two all the same (see
    // ShadowCopyOptions::catch_up_sessions).
    options_.catch_up_sessions = 2;
  }
  options_.parallel_index_builds = !headroom;
  auto level = throttler.ApplicationBaseline();
  if (level && level->connections > 0 && flags.headroom > 0) {
    parts_->text->OnMessage(fmt::format(
        "the application had {:.1f} of its {} connections active and {:.1f} inside a transaction "
        "before the migration: {}",
        level->active, level->connections, level->in_transaction,
        headroom ? "work waits for its headroom, one session at a time"
        : monitor::KeepsEveryConnectionBusy(*level)
            ? "it keeps every connection busy, so work runs at full speed (a pause would only "
              "make it last longer)"
            : "no headroom to keep to, work runs at full speed"));
  }
}

MigrationSession::~MigrationSession() = default;

ProgressSink& MigrationSession::progress() { return parts_->monitor->progress(); }

void MigrationSession::WaitWhileCutoverPostponed() { parts_->monitor->WaitWhileCutoverPostponed(); }

model::Migration LoadMigration(const std::string& path, const GlobalOptions& global,
                               bool allow_blocking) {
  CheckFileSize(global, path);
  if (std::filesystem::path(path).extension() == ".sql") {
    return sql::TranslateSqlFile(path, {allow_blocking, global.schema}).ValueOrThrow();
  }
  model::Migration migration = model::ReadMigrationFile(path).ValueOrThrow();
  sql::LowerRebuildClauses(migration).ThrowIfError();
  sql::InferSqlDowns(migration).ThrowIfError();
  return migration;
}

bool IsMigrationFile(const std::string& path) {
  auto ext = std::filesystem::path(path).extension().string();
  return ext == ".yaml" || ext == ".yml" || ext == ".json" || ext == ".sql";
}

}  // namespace zerodown::cli
