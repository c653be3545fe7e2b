// The pure half of the health checks: judging one window of measurements against thresholds,
// and the automatic rollback policy that turns a run of bad verdicts into a decision. No I/O and
// no clock; health.hpp measures.
#pragma once

#include <algorithm>
#include <chrono>
#include <cstdint>
#include <map>
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
  // Latency is degraded when it is over baseline * ratio AND over baseline + latency_margin: a
  // 1 ms statement taking 2.5 ms on a busy 2-core server is scheduler noise, not harm.
  double alert_latency_ratio = 1.5;
  double rollback_latency_ratio = 2.0;
  std::chrono::microseconds latency_margin{20000};
  std::int64_t alert_lag_bytes = 256LL * 1024 * 1024;
  std::int64_t rollback_lag_bytes = 0;
  // A window with fewer transactions says nothing about an error rate (2 of 3 is not 67%).
  std::int64_t min_transactions = 20;
  // A window with fewer application statements says nothing about their latency.
  std::int64_t min_statements = 10;
};

// Where a latency figure comes from: the application's own statements (pg_stat_statements, each
// statement against its own mean before the migration), or a probe query zerodown times itself.
enum class LatencySource { kStatements, kProbe };

// A window's typical latency and the same measure before the migration.
struct LatencySample {
  LatencySource source = LatencySource::kProbe;
  std::chrono::microseconds current{0};
  std::chrono::microseconds baseline{0};
  // kStatements: how many statements `current` averages (judged from min_statements on).
  std::int64_t statements = 0;
};

// What one window saw: transaction counter deltas, the window's latency, the worst lag.
struct HealthSample {
  std::int64_t commits = 0;
  std::int64_t rollbacks = 0;
  std::optional<LatencySample> latency;
  std::optional<std::int64_t> lag_bytes;
  // Set when a consistency check failed (what failed).
  std::optional<std::string> consistency_failure;
};

// One of the application's running transaction counts (commits or rollbacks): the database's
// counter (pg_stat_database, every session's) less zerodown's own (pg/own_transactions.hpp). The
// server reports a session's transactions up to about a second after the client saw them end,
// so the difference dips while ours are on their way; it is kept as a high-water mark, so that
// ours never show up as the application's when they land. A database counter that went back
// (pg_stat_reset()) goes on from the mark. Pure.
class ApplicationCount {
 public:
  // The application's count after a sample of both.
  std::int64_t Observe(std::int64_t database, std::int64_t own);

 private:
  std::optional<std::int64_t> last_database_;
  std::int64_t offset_ = 0;
  std::optional<std::int64_t> high_;
};

// The names of the checks, as CheckResult::check and the metrics' `check` label.
inline constexpr std::string_view kErrorRateCheck = "error_rate";
inline constexpr std::string_view kStatementLatencyCheck = "statement_latency";
inline constexpr std::string_view kProbeLatencyCheck = "probe_latency";
inline constexpr std::string_view kLagCheck = "replication_lag";
inline constexpr std::string_view kConsistencyCheck = "consistency";

struct CheckResult {
  std::string check;  // one of the names above
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

// Trips once one check stayed at rollback level for its number of verdicts in a row: `sustain`
// for the error rate and lag, `latency_sustain` for a latency check (latency is noisier than a
// count of failed transactions, and a false rollback throws the migration's work away), at once
// for a consistency failure. Once tripped it stays tripped (a calmer second undoes no rollback).
class AutoRollbackPolicy {
 public:
  explicit AutoRollbackPolicy(int sustain = 2, int latency_sustain = 5)
      : sustain_(std::max(sustain, 1)), latency_sustain_(std::max(latency_sustain, 1)) {}
  // Feeds one verdict; returns whether the policy is tripped now.
  bool Observe(const HealthVerdict& verdict);
  // Whether to roll back; `why` (if given) gets the reason of the verdict that tripped it.
  bool ShouldRollBack(std::string* why) const;

 private:
  int Needed(std::string_view check) const;

  int sustain_;
  int latency_sustain_;
  std::map<std::string, int, std::less<>> runs_;  // per check: rollback verdicts in a row
  bool tripped_ = false;
  std::string why_;
};

}  // namespace zerodown::monitor
