#include "latency_gauge.hpp"

namespace zerodown::monitor {

namespace {

// Fewer calls than this before the migration (an extension installed a moment ago) are no
// yardstick; the probe judges instead.
constexpr std::int64_t kMinBaselineCalls = 100;
constexpr int kProbeBaselineRuns = 11;
constexpr std::chrono::milliseconds kProbeBaselineSpacing{50};

std::int64_t Calls(const StatementSnapshot& snapshot) {
  std::int64_t calls = 0;
  for (const auto& [key, t] : snapshot) calls += t.calls;
  return calls;
}

}  // namespace

LatencyGauge::LatencyGauge(pg::Connection& conn, const std::string& probe_query,
                           std::chrono::milliseconds window)
    : conn_(conn), probe_(conn, probe_query), cap_(window) {
  if (auto view = FindStatementStatistics(conn_)) {
    baseline_ = SampleStatements(conn_, *view);
    if (Calls(baseline_) >= kMinBaselineCalls) {
      view_ = std::move(view);
      last_ = baseline_;
      window_.emplace(LatencySource::kStatements, std::chrono::microseconds(0));
      return;
    }
    baseline_.clear();
  }
  probe_.MeasureBaseline(kProbeBaselineRuns, kProbeBaselineSpacing);
  window_.emplace(LatencySource::kProbe, probe_.baseline());
}

void LatencyGauge::Sample(Clock::time_point at) {
  if (!view_) {
    window_->AddProbe(at, probe_.Measure());
    return;
  }
  // Running statements first: one that finishes in between is then counted twice, never missed.
  auto running = SampleRunningStatements(conn_);
  StatementSnapshot now = SampleStatements(conn_, *view_);
  window_->AddStatements(at, CostBetween(baseline_, last_, now, running, cap_));
  last_ = std::move(now);
}

}  // namespace zerodown::monitor
