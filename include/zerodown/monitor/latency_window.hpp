// The latency a health verdict judges, as pure arithmetic over samples (signals.hpp measures,
// health_policy.hpp judges). Two sources: the application's own statements, from
// pg_stat_statements counters (each statement's calls and time since the previous sample,
// weighed against that same statement's mean before the migration, so a change in the mix of
// statements, more reports and fewer lookups, is not mistaken for a slowdown), or a probe query
// timed once a sample (the median over the window against the median before the migration).
#pragma once

#include <chrono>
#include <cstdint>
#include <deque>
#include <functional>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "zerodown/monitor/health_policy.hpp"

namespace zerodown::monitor {

// One statement's cumulative counters (pg_stat_statements.calls, total_exec_time).
struct StatementTotals {
  std::int64_t calls = 0;
  double total_ms = 0;
};
// Every statement's counters at one moment, keyed "userid:queryid".
using StatementSnapshot = std::map<std::string, StatementTotals, std::less<>>;

// A statement another client is running at the moment of a snapshot (pg_stat_activity), so a
// statement stalled behind a lock counts before it finishes (pg_stat_statements only counts
// finished ones, and a full stall finishes none).
struct RunningStatement {
  std::string key;  // "userid:queryid"
  std::chrono::microseconds elapsed{0};
};

// The statements of some stretch of time: how long they took, and how long the same statements
// took on average before the migration.
struct StatementCost {
  std::int64_t statements = 0;
  double actual_ms = 0;
  double expected_ms = 0;
  StatementCost& operator+=(const StatementCost& other);
};

// The cost between `before` and `now` of the statements that `baseline` knows (statements first
// seen during the migration, zerodown's own among them, are not the application's yardstick),
// plus the `running` ones, each counted at min(elapsed, cap) against min(its mean, cap). A
// counter that went back (pg_stat_statements_reset, eviction) counts nothing.
StatementCost CostBetween(const StatementSnapshot& baseline, const StatementSnapshot& before,
                          const StatementSnapshot& now,
                          const std::vector<RunningStatement>& running,
                          std::chrono::microseconds cap);

// `cost` as per-statement averages: current = actual / statements, baseline = expected /
// statements.
LatencySample ToLatencySample(const StatementCost& cost);

// The median of `values` (the upper one for an even count); 0 for none.
std::chrono::microseconds Median(std::vector<std::chrono::microseconds> values);

// The samples of the last few seconds, of one source.
class LatencyWindow {
 public:
  using Clock = std::chrono::steady_clock;
  // `probe_baseline` is what a probe window is compared with (unused for statements).
  LatencyWindow(LatencySource source, std::chrono::microseconds probe_baseline)
      : source_(source), probe_baseline_(probe_baseline) {}

  // One sample: the statements' cost since the previous one, or one probe run.
  void AddStatements(Clock::time_point at, const StatementCost& cost);
  void AddProbe(Clock::time_point at, std::chrono::microseconds latency);
  // The latency over the samples taken after `since` (older ones are dropped): the statements'
  // averages, or the median probe against the baseline. nullopt without a sample.
  std::optional<LatencySample> Since(Clock::time_point since);

 private:
  struct Point {
    Clock::time_point at;
    StatementCost cost;
    std::chrono::microseconds probe{0};
  };
  LatencySource source_;
  std::chrono::microseconds probe_baseline_;
  std::deque<Point> points_;
};

}  // namespace zerodown::monitor
