#include "zerodown/monitor/metrics.hpp"

#include <fmt/format.h>

namespace zerodown::monitor {

namespace {

// Chunk durations: the backfill aims at tens of milliseconds; seconds mean trouble.
const prometheus::Histogram::BucketBoundaries kChunkBuckets = {0.005, 0.01, 0.025, 0.05, 0.1, 0.25,
                                                               0.5,   1,    2.5,   5,    10};

}  // namespace

std::string_view MetricsPhaseName(MetricsPhase phase) {
  switch (phase) {
    case MetricsPhase::kIdle:
      return "idle";
    case MetricsPhase::kStart:
      return PlanPhaseName(PlanPhase::kStart);
    case MetricsPhase::kComplete:
      return PlanPhaseName(PlanPhase::kComplete);
    case MetricsPhase::kRollback:
      return PlanPhaseName(PlanPhase::kRollback);
    case MetricsPhase::kDone:
      return "done";
  }
  return "idle";
}

MetricsPhase MetricsPhaseOf(PlanPhase phase) {
  switch (phase) {
    case PlanPhase::kStart:
      return MetricsPhase::kStart;
    case PlanPhase::kComplete:
      return MetricsPhase::kComplete;
    case PlanPhase::kRollback:
      return MetricsPhase::kRollback;
  }
  return MetricsPhase::kStart;
}

Metrics::Metrics() {
  auto& r = endpoint_.registry();
  phase_ = &prometheus::BuildGauge()
                .Name("zerodown_migration_phase")
                .Help("1 for the phase the migration is in (start, complete, rollback), 0 else")
                .Register(r);
  for (auto phase : kMetricsPhases) {
    phase_->Add({{"phase", std::string(MetricsPhaseName(phase))}})
        .Set(phase == MetricsPhase::kIdle);
  }
  rows_done_ = &prometheus::BuildGauge()
                    .Name("zerodown_backfill_rows_done")
                    .Help("Rows the backfill has touched so far")
                    .Register(r);
  rows_total_ = &prometheus::BuildGauge()
                     .Name("zerodown_backfill_rows_total")
                     .Help("Rows the backfill expects to touch (an estimate until it ends)")
                     .Register(r);
  rows_per_second_ = &prometheus::BuildGauge()
                          .Name("zerodown_backfill_rows_per_second")
                          .Help("Backfill rate since the pass started")
                          .Register(r);
  chunk_duration_ = &prometheus::BuildHistogram()
                         .Name("zerodown_backfill_chunk_duration_seconds")
                         .Help("Time each backfill chunk took (and held its row locks)")
                         .Register(r);
  lag_bytes_ = &prometheus::BuildGauge()
                    .Name("zerodown_replication_lag_bytes")
                    .Help("Largest replay lag of any standby, in bytes of WAL")
                    .Register(r)
                    .Add({});
  throttled_ = &prometheus::BuildGauge()
                    .Name("zerodown_throttled")
                    .Help("1 while the throttler holds the migration back")
                    .Register(r)
                    .Add({});
  throttled_seconds_ = &prometheus::BuildCounter()
                            .Name("zerodown_throttled_seconds_total")
                            .Help("Time the migration spent waiting for the throttler")
                            .Register(r)
                            .Add({});
  lock_retries_ = &prometheus::BuildCounter()
                       .Name("zerodown_lock_retries_total")
                       .Help("DDL statements that hit lock_timeout and were retried")
                       .Register(r)
                       .Add({});
  errors_ = &prometheus::BuildCounter()
                 .Name("zerodown_errors_total")
                 .Help("Errors by kind (failed steps, failed monitor samples)")
                 .Register(r);
  health_ = &prometheus::BuildGauge()
                 .Name("zerodown_health_check_state")
                 .Help("Per health check: 0 ok, 1 alert, 2 rollback")
                 .Register(r);
}

Metrics::~Metrics() = default;

Status Metrics::Serve(const std::string& address) { return endpoint_.Serve(address); }

int Metrics::port() const { return endpoint_.port(); }

std::string Metrics::Render() const { return endpoint_.Render(); }

void Metrics::SetPhase(MetricsPhase phase) {
  std::lock_guard lock(mutex_);
  for (auto p : kMetricsPhases) {
    phase_->Add({{"phase", std::string(MetricsPhaseName(p))}}).Set(p == phase ? 1 : 0);
  }
}

void Metrics::SetBackfill(const std::string& table, std::int64_t rows_done, std::int64_t rows_total,
                          double rows_per_second) {
  rows_done_->Add({{"table", table}}).Set(static_cast<double>(rows_done));
  rows_total_->Add({{"table", table}}).Set(static_cast<double>(rows_total));
  rows_per_second_->Add({{"table", table}}).Set(rows_per_second);
}

void Metrics::ObserveChunk(const std::string& table, std::chrono::duration<double> duration) {
  chunk_duration_->Add({{"table", table}}, kChunkBuckets).Observe(duration.count());
}

void Metrics::SetReplicationLag(std::int64_t bytes) { lag_bytes_->Set(static_cast<double>(bytes)); }

void Metrics::SetThrottled(bool throttled) { throttled_->Set(throttled ? 1 : 0); }

void Metrics::AddThrottled(std::chrono::duration<double> waited) {
  throttled_seconds_->Increment(waited.count());
}

void Metrics::IncLockRetries() { lock_retries_->Increment(); }

void Metrics::IncErrors(std::string_view kind) {
  errors_->Add({{"kind", std::string(kind)}}).Increment();
}

void Metrics::SetHealthState(std::string_view check, HealthState state) {
  health_->Add({{"check", std::string(check)}}).Set(static_cast<double>(state));
}

void MetricsProgress::OnAction(const ActionEvent& action) {
  metrics_.SetPhase(MetricsPhaseOf(action.phase));
  inner_.OnAction(action);
}

void MetricsProgress::OnBackfill(const BackfillProgress& p) {
  metrics_.SetBackfill(p.table, p.rows_done, p.rows_total, p.rows_per_second);
  metrics_.ObserveChunk(p.table, std::chrono::duration<double>(p.last_chunk_ms / 1000.0));
  inner_.OnBackfill(p);
}

void MetricsProgress::OnLockRetry(const std::string& description, int attempt,
                                  std::chrono::milliseconds delay) {
  metrics_.IncLockRetries();
  inner_.OnLockRetry(description, attempt, delay);
}

void MetricsProgress::OnThrottle(const std::string&) { metrics_.SetThrottled(true); }

void MetricsProgress::OnResume(std::chrono::duration<double> waited) {
  metrics_.SetThrottled(false);
  metrics_.AddThrottled(waited);
}

void MetricsProgress::OnSample(const ThrottleSignals& signals) {
  metrics_.SetReplicationLag(signals.MaxLagBytes().value_or(0));
}

void MetricsProgress::OnSampleError(const Error&) { metrics_.IncErrors("monitor_sample"); }

void MetricsProgress::OnHealth(const HealthVerdict& verdict) {
  for (const auto& c : verdict.checks) metrics_.SetHealthState(c.check, c.state);
}

void ProgressReporter::OnThrottle(const std::string& reason) {
  sink_.OnMessage("throttled: " + reason + "; waiting");
}

void ProgressReporter::OnResume(std::chrono::duration<double> waited) {
  sink_.OnMessage(fmt::format("resumed after {:.1f} s", waited.count()));
}

void ProgressReporter::OnSampleError(const Error& error) {
  // A monitoring connection that keeps failing would print four lines a second; one every
  // ten seconds says the same.
  auto now = std::chrono::steady_clock::now();
  if (now - last_error_ < std::chrono::seconds(10)) return;
  last_error_ = now;
  sink_.OnMessage("monitor: cannot sample the database (" + error.message() +
                  "); carrying on unthrottled");
}

void ProgressReporter::OnAlert(const HealthVerdict& verdict) {
  std::lock_guard lock(mutex_);
  queued_.push_back(
      fmt::format("health {}: {}", HealthStateName(verdict.state), verdict.Summary()));
}

void ProgressReporter::Flush() {
  std::vector<std::string> messages;
  {
    std::lock_guard lock(mutex_);
    messages.swap(queued_);
  }
  for (const auto& m : messages) sink_.OnMessage(m);
}

}  // namespace zerodown::monitor
