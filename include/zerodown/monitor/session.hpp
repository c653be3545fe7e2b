// Everything that watches one running migration, bundled for the CLI: the throttler, the health
// monitor with its automatic rollback policy and --on-alert hook, and the metrics endpoint, all
// wired to each other and to the progress display. A command builds one Session before it starts
// the engine and hands the engine progress(), BeforeBatch() and BeforeCutover(). It owns the
// monitoring connections and threads; it never touches the migration itself.
#pragma once

#include <chrono>
#include <memory>
#include <string>

#include "zerodown/common/progress.hpp"
#include "zerodown/monitor/cutover.hpp"
#include "zerodown/monitor/health.hpp"
#include "zerodown/monitor/metrics.hpp"
#include "zerodown/monitor/throttler.hpp"

namespace zerodown::monitor {

struct SessionOptions {
  std::string conninfo;      // the migrated database ("" = PG* environment, as psql)
  std::string metrics_addr;  // "host:port"; "" = no endpoint
  ThrottlerOptions throttle;
  HealthOptions health;
  bool health_checks = true;   // false: no health thread (and so no automatic rollback)
  CutoverWaitOptions cutover;  // its while_waiting is the session's own
};

class Session {
 public:
  // Opens the monitoring connections and measures the probe baselines (so build it before the
  // migration loads the server), serves metrics, starts the health thread. Throws kUsage when
  // the metrics address cannot be bound, kConnection when the database cannot be reached.
  // `base` is not owned and must outlive the session.
  Session(SessionOptions options, ProgressSink& base);
  ~Session();
  Session(const Session&) = delete;
  Session& operator=(const Session&) = delete;

  // The sink to give the engine: records metrics (when served) and passes on to `base`.
  ProgressSink& progress();
  // For BackfillOptions::before_batch: prints queued health alerts, throws
  // Error(kMigrationFailed, "automatic rollback: …") once the policy tripped (the engine then
  // rolls start back), and otherwise waits while the throttler says so, checking the policy
  // on every poll of the wait.
  void BeforeBatch();
  // For BackfillOptions::settle: Throttler::Settle, said through progress() when it waited long
  // enough to notice, naming the step it waited `after`.
  void Settle(const std::string& after);
  // For EngineOptions::before_cutover: returns at once unless `zerodown postpone-cutover` holds
  // the cut-over back; then says so through progress() once and waits, reading the flag every
  // cutover.poll_interval on the monitoring connection, until `zerodown cutover`. Checks the
  // automatic-rollback policy on every poll, as BeforeBatch does, and throws the same error.
  void BeforeCutover();
  // The same wait without the policy: for the CLI before `complete`, which is the cut-over of an
  // expand/contract migration. Once start has returned, the migration is not watched, and an
  // automatic rollback could not undo a finished start anyway.
  void WaitWhileCutoverPostponed();
  // Counts a command-ending error in zerodown_errors_total{kind}.
  void RecordError(const Error& error);
  // Sets zerodown_migration_phase (e.g. kDone when the command finished).
  void SetPhase(MetricsPhase phase);

  Throttler& throttler() { return *throttler_; }
  HealthMonitor* health() { return health_.get(); }  // null when health checks are off
  Metrics* metrics() { return metrics_.get(); }      // null without an endpoint

 private:
  // A settle shorter than this is not worth a line of output.
  static constexpr std::chrono::milliseconds kNoticedSettle{100};
  void CheckHealth();
  void WaitForCutover(bool check_health);

  ProgressSink& base_;
  CutoverWaitOptions cutover_;
  std::unique_ptr<Metrics> metrics_;
  std::unique_ptr<MetricsProgress> metrics_progress_;
  std::unique_ptr<ProgressReporter> reporter_;
  std::unique_ptr<Throttler> throttler_;
  std::unique_ptr<HealthMonitor> health_;
};

}  // namespace zerodown::monitor
