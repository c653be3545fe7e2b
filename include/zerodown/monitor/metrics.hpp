// Prometheus metrics of a running migration (prometheus-cpp), served over HTTP at
// --metrics-addr: phase, backfill rows done/total and rate, chunk durations, replication lag,
// time throttled, lock-timeout retries, errors and health-check states. MetricsProgress feeds
// them from the events the engine, the throttler and the health monitor already emit, so
// nothing in the engine knows metrics exist. It only records and serves; it decides nothing.
// The names are documented in docs/monitoring.md.
#pragma once

#include <prometheus/counter.h>
#include <prometheus/family.h>
#include <prometheus/gauge.h>
#include <prometheus/histogram.h>
#include <prometheus/registry.h>

#include <chrono>
#include <cstdint>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <vector>

#include "zerodown/common/error.hpp"
#include "zerodown/common/progress.hpp"
#include "zerodown/monitor/endpoint.hpp"
#include "zerodown/monitor/health.hpp"
#include "zerodown/monitor/throttler.hpp"

namespace zerodown::monitor {

// The phases zerodown_migration_phase knows (its `phase` label); the current one is 1, the
// others 0. Idle before the first action, a plan's phase while it runs, done at the end.
enum class MetricsPhase { kIdle, kStart, kComplete, kRollback, kDone };
inline constexpr MetricsPhase kMetricsPhases[] = {MetricsPhase::kIdle, MetricsPhase::kStart,
                                                  MetricsPhase::kComplete, MetricsPhase::kRollback,
                                                  MetricsPhase::kDone};
// The label value: "idle", "start", "complete", "rollback", "done".
std::string_view MetricsPhaseName(MetricsPhase phase);
MetricsPhase MetricsPhaseOf(PlanPhase phase);

// The metric families in one registry, and optionally the HTTP endpoint serving them.
// Thread-safe: every setter may be called from any thread.
class Metrics {
 public:
  Metrics();
  ~Metrics();
  Metrics(const Metrics&) = delete;
  Metrics& operator=(const Metrics&) = delete;

  // Serves GET /metrics on "host:port" (port 0 picks a free one; see port()). Returns kUsage
  // naming the address when it cannot be bound. Call at most once.
  Status Serve(const std::string& address);
  // The port Serve bound, 0 before.
  int port() const;
  // The current values in the Prometheus text format (what a scrape returns).
  std::string Render() const;

  void SetPhase(MetricsPhase phase);
  void SetBackfill(const std::string& table, std::int64_t rows_done, std::int64_t rows_total,
                   double rows_per_second);
  void ObserveChunk(const std::string& table, std::chrono::duration<double> duration);
  void SetReplicationLag(std::int64_t bytes);
  void SetThrottled(bool throttled);
  void AddThrottled(std::chrono::duration<double> waited);
  void IncLockRetries();
  // `kind` is a short stable word (an ErrorKind name, "monitor_sample"), never free text.
  void IncErrors(std::string_view kind);
  void SetHealthState(std::string_view check, HealthState state);

  std::shared_ptr<prometheus::Registry> registry() const { return endpoint_.shared_registry(); }

 private:
  MetricsEndpoint endpoint_;
  std::mutex mutex_;  // serialises multi-metric updates (the phase gauges)
  prometheus::Family<prometheus::Gauge>* phase_;
  prometheus::Family<prometheus::Gauge>* rows_done_;
  prometheus::Family<prometheus::Gauge>* rows_total_;
  prometheus::Family<prometheus::Gauge>* rows_per_second_;
  prometheus::Family<prometheus::Histogram>* chunk_duration_;
  prometheus::Gauge* lag_bytes_;
  prometheus::Gauge* throttled_;
  prometheus::Counter* throttled_seconds_;
  prometheus::Counter* lock_retries_;
  prometheus::Family<prometheus::Counter>* errors_;
  prometheus::Family<prometheus::Gauge>* health_;
};

// A ProgressSink that records metrics and passes every event on to `inner`; also observes a
// Throttler and a HealthMonitor. `metrics` and `inner` are not owned and must outlive it.
class MetricsProgress final : public ProgressSink, public ThrottleObserver, public HealthObserver {
 public:
  MetricsProgress(Metrics& metrics, ProgressSink& inner) : metrics_(metrics), inner_(inner) {}

  void OnAction(const ActionEvent& action) override;
  void OnBackfill(const BackfillProgress& progress) override;
  void OnLockRetry(const std::string& description, int attempt,
                   std::chrono::milliseconds delay) override;
  void OnCopyStage(CopyStage stage, const std::string& table) override {
    inner_.OnCopyStage(stage, table);
  }
  void OnMessage(const std::string& message) override { inner_.OnMessage(message); }

  void OnThrottle(const std::string& reason) override;
  void OnResume(std::chrono::duration<double> waited) override;
  void OnSample(const ThrottleSignals& signals) override;
  void OnSampleError(const Error& error) override;

  void OnHealth(const HealthVerdict& verdict) override;

 private:
  Metrics& metrics_;
  ProgressSink& inner_;
};

// Tells a ProgressSink (the terminal line, JSON events) what the throttler and the health
// monitor do, as messages: "throttled: replication lag …; waiting", "resumed after 3.2 s",
// "health alert: error rate …". Throttle events arrive on the migration's thread and go straight
// through; health alerts arrive on the monitor's thread and wait in a queue for Flush(), which
// the migration's thread calls (before each batch), since sinks are not thread-safe.
// `sink` is not owned.
class ProgressReporter final : public ThrottleObserver, public HealthObserver {
 public:
  explicit ProgressReporter(ProgressSink& sink) : sink_(sink) {}
  void OnThrottle(const std::string& reason) override;
  void OnResume(std::chrono::duration<double> waited) override;
  void OnSampleError(const Error& error) override;
  void OnHealth(const HealthVerdict&) override {}
  void OnAlert(const HealthVerdict& verdict) override;
  // Delivers queued health messages. Call from the thread that owns the sink.
  void Flush();

 private:
  ProgressSink& sink_;
  std::mutex mutex_;
  std::vector<std::string> queued_;
  std::chrono::steady_clock::time_point last_error_{};
};

}  // namespace zerodown::monitor
