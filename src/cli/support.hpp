// What the engine commands share: connecting as the global options say, rendering progress on a
// terminal, as plain lines or as JSON events, and the engine's tuning flags.
#pragma once

#include <memory>
#include <string>

#include "cli/command.hpp"
#include "zerodown/engine/engine.hpp"
#include "zerodown/model/operations.hpp"
#include "zerodown/pg/connection.hpp"

namespace zerodown::cli {

pg::Connection Connect(const GlobalOptions& global);

// {"migration": <name>, "phase": <phase>}: what the commands that move a migration print with
// --json (start adds its search_path).
nlohmann::json RecordJson(const engine::MigrationRecord& record);

// Flags of the commands that change the schema.
struct EngineFlags {
  int chunk_time_ms = 50;
  int max_lock_attempts = 50;
  bool no_wait = false;
  // Throttling (see docs/monitoring.md) and metrics.
  std::string pause_file;
  std::string max_lag;  // "64MB" or "30s"; "" keeps the defaults (128 MB, 10 s)
  double max_probe_latency_ratio = 10;
  std::string probe_query = "SELECT 1";
  int max_lock_waiters = 3;
  std::string mechanism = "auto";             // --mechanism
  std::string verify_before_swap = "sample";  // --verify-before-swap
  int replay_sessions = 0;                    // --replay-sessions; 0: sized to the headroom
  int copy_sessions = 0;                      // --copy-sessions; 0: sized to the headroom
  int max_active = 0;
  double headroom = 1;
  std::string metrics_addr;
  bool auto_rollback = false;
  // Health thresholds (docs/monitoring.md); the defaults are HealthThresholds'.
  double alert_error_rate = 0.01;
  double rollback_error_rate = 0.05;
  double alert_latency_ratio = 1.5;
  double rollback_latency_ratio = 2.0;
  int latency_margin_ms = 20;
  int latency_sustain = 5;
  std::string on_alert;
};
void AddEngineFlags(CLI::App* command, EngineFlags& flags);
engine::EngineOptions MakeEngineOptions(const GlobalOptions& global, const EngineFlags& flags);

// What a schema-changing command runs with: the engine's options with the throttler plugged into
// every backfill batch (and `zerodown set chunk-time=` into its sizing), the cut-over hook that
// honours `zerodown postpone-cutover`, and the progress sink (wrapped with Prometheus metrics
// when asked). Owns the throttler and the metrics endpoint for as long as the command runs.
class MigrationSession {
 public:
  // `health_checks` false for complete/rollback: metrics and throttling only. `watched_url`:
  // the database whose application the throttle keeps to (its active sessions, probe, standbys
  // and `zerodown pause`) when it is not the one the engine changes, such as blue for the
  // migration `bluegreen start` runs on green; empty: the one the engine changes.
  MigrationSession(const GlobalOptions& global, const EngineFlags& flags, bool health_checks = true,
                   const std::string& watched_url = "");
  ~MigrationSession();
  const engine::EngineOptions& options() const { return options_; }
  ProgressSink& progress();
  // Call right before engine.Complete(): for an expand/contract migration complete is the
  // cut-over, so it waits here while `zerodown postpone-cutover` holds it back (saying so once),
  // until `zerodown cutover`.
  void WaitWhileCutoverPostponed();

 private:
  struct Parts;
  // The copy's and the replay's sessions, and parallel index builds, by the headroom the
  // application left before the migration (flags that name a number win).
  void SizeToHeadroom(const EngineFlags& flags);

  engine::EngineOptions options_;
  std::unique_ptr<Parts> parts_;
};

// Reads a .yaml/.yml/.json migration, or translates a .sql file into operations (statements
// with no online form are refused unless `allow_blocking`), into global.schema. A file over
// --max-file-size is refused before it is read (kInvalidMigration).
model::Migration LoadMigration(const std::string& path, const GlobalOptions& global,
                               bool allow_blocking = false);
// Whether `path` names a migration file zerodown reads.
bool IsMigrationFile(const std::string& path);

}  // namespace zerodown::cli
