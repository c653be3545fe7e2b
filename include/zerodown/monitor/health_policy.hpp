// The pure half of the health checks: judging one window of measurements against thresholds,
// and the automatic rollback policy that turns a run of bad verdicts into a decision. No I/O and
// no clock; health.hpp measures.
#pragma once

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace zerodown::monitor {

enum class HealthState { kOk = 0, kAlert = 1, kRollback = 2 };
std::string_view HealthStateName(HealthState state);  // "ok", "alert", "rollback"

// Alert and rollback levels per check. Zero (or less) turns that level off.
struct HealthThresholds {
  double alert_error_rate = 0.01;
  double rollback_error_rate = 0.05;
  double alert_latency_ratio = 1.5;
  double rollback_latency_ratio = 2.0;
  std::int64_t alert_lag_bytes = 256LL * 1024 * 1024;
  std::int64_t rollback_lag_bytes = 0;
  // A window with fewer transactions says nothing about an error rate (2 of 3 is not 67%).
  std::int64_t min_transactions = 20;
  // The latency ratio is taken against max(baseline, this); see ThrottleLimits.
  std::chrono::microseconds min_probe_baseline{1000};
};

// What one window saw: transaction counter deltas, the window's probe latency, the worst lag.
struct HealthSample {
  std::int64_t commits = 0;
  std::int64_t rollbacks = 0;
  std::optional<std::chrono::microseconds> probe_latency;
  std::optional<std::chrono::microseconds> probe_baseline;
  std::optional<std::int64_t> lag_bytes;
  // Set when a consistency check failed (what failed).
  std::optional<std::string> consistency_failure;
};

struct CheckResult {
  std::string check;  // "error_rate", "probe_latency", "replication_lag", "consistency"
  HealthState state = HealthState::kOk;
  double value = 0;     // the measured value (a rate, a ratio, bytes)
  std::string message;  // "error rate 7.2% (36 of 500 transactions) > 5%"; "" when ok
};

struct HealthVerdict {
  HealthState state = HealthState::kOk;  // the worst check
  std::vector<CheckResult> checks;       // every check that was measured
  // The messages of every check not ok, joined by "; ".
  std::string Summary() const;
};

// Judges one window. Pure.
HealthVerdict Judge(const HealthSample& sample, const HealthThresholds& thresholds);

// Trips after `sustain` rollback-level verdicts in a row, or at once on a consistency failure;
// once tripped it stays tripped (a rollback is not undone by a calmer second).
class AutoRollbackPolicy {
 public:
  explicit AutoRollbackPolicy(int sustain = 2) : sustain_(sustain < 1 ? 1 : sustain) {}
  // Feeds one verdict; returns whether the policy is tripped now.
  bool Observe(const HealthVerdict& verdict);
  // Whether to roll back; `why` (if given) gets the reason of the verdict that tripped it.
  bool ShouldRollBack(std::string* why) const;

 private:
  int sustain_;
  int run_ = 0;
  bool tripped_ = false;
  std::string why_;
};

}  // namespace zerodown::monitor
