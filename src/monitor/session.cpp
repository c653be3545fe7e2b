#include "zerodown/monitor/session.hpp"

#include <fmt/format.h>

namespace zerodown::monitor {

Session::Session(SessionOptions options, ProgressSink& base)
    : base_(base), cutover_(options.cutover) {
  if (!options.metrics_addr.empty()) {
    metrics_ = std::make_unique<Metrics>();
    metrics_->Serve(options.metrics_addr).ThrowIfError();
    metrics_progress_ = std::make_unique<MetricsProgress>(*metrics_, base_);
  }
  reporter_ = std::make_unique<ProgressReporter>(base_);
  options.throttle.while_waiting = [this] { CheckHealth(); };
  throttler_ = std::make_unique<Throttler>(MakeDatabaseSignals(options.conninfo, options.throttle),
                                           options.throttle);
  throttler_->AddObserver(reporter_.get());
  if (metrics_progress_) throttler_->AddObserver(metrics_progress_.get());
  if (options.health_checks) {
    health_ = std::make_unique<HealthMonitor>(options.conninfo, options.health);
    health_->AddObserver(reporter_.get());
    if (metrics_progress_) health_->AddObserver(metrics_progress_.get());
    health_->Start();
  }
}

Session::~Session() {
  // The health thread reports to the observers owned here: stop it before they go.
  if (health_) health_->Stop();
}

ProgressSink& Session::progress() {
  return metrics_progress_ ? static_cast<ProgressSink&>(*metrics_progress_) : base_;
}

void Session::CheckHealth() {
  reporter_->Flush();
  std::string why;
  if (health_ && health_->ShouldRollBack(&why)) {
    throw Error(ErrorKind::kMigrationFailed, "automatic rollback: " + why,
                "Find out why the application suffered before you run the migration again; "
                "the thresholds are --rollback-error-rate, --rollback-latency-ratio, "
                "--latency-margin and --latency-sustain.");
  }
}

void Session::BeforeBatch() {
  CheckHealth();
  throttler_->WaitIfNeeded();
}

void Session::Settle(const std::string& after) {
  std::chrono::milliseconds waited = throttler_->Settle();
  if (waited >= kNoticedSettle) {
    progress().OnMessage(
        fmt::format("waited {:.1f} s after {} for the application's sessions to settle",
                    waited.count() / 1e3, after));
  }
}

void Session::WaitForCutover(bool check_health) {
  CutoverWaitOptions options = cutover_;
  options.while_waiting = [this, check_health] {
    if (check_health) {
      CheckHealth();
    } else {
      reporter_->Flush();
    }
  };
  monitor::WaitForCutover([this] { return throttler_->RefreshControl().cutover_postponed; },
                          progress(), options);
}

void Session::BeforeCutover() {
  CheckHealth();
  WaitForCutover(/*check_health=*/true);
}

void Session::WaitWhileCutoverPostponed() { WaitForCutover(/*check_health=*/false); }

void Session::RecordError(const Error& error) {
  if (metrics_) metrics_->IncErrors(KindName(error.kind()));
}

void Session::SetPhase(MetricsPhase phase) {
  if (metrics_) metrics_->SetPhase(phase);
}

}  // namespace zerodown::monitor
