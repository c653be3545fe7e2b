// The latency check on synthetic series, the whole pure path: samples into a LatencyWindow,
// each second's window judged, the verdicts fed to the automatic rollback policy. What a busy
// 2-core server does to a 1 ms probe (2-3x jitter, a spike now and then) must never roll back;
// a real, sustained slowdown of the application must, within seconds.
#include "zerodown/monitor/latency_window.hpp"

#include <gtest/gtest.h>

#include <functional>
#include <random>

namespace zerodown::monitor {
namespace {

using std::chrono::microseconds;
using std::chrono::milliseconds;
using Clock = std::chrono::steady_clock;

struct Outcome {
  bool tripped = false;
  int second = -1;  // the sample that tripped the policy
  std::string why;
};

// Feeds `seconds` samples, one a second, each judged over the last 3 s, as HealthMonitor does.
Outcome Feed(LatencyWindow window, int seconds,
             const std::function<void(LatencyWindow&, Clock::time_point, int)>& sample,
             HealthThresholds thresholds = {}, int latency_sustain = 5) {
  AutoRollbackPolicy policy(2, latency_sustain);
  Clock::time_point start{};
  for (int i = 0; i < seconds; ++i) {
    auto now = start + std::chrono::seconds(i);
    sample(window, now, i);
    HealthSample s;
    s.latency = window.Since(now - milliseconds(3000));
    if (policy.Observe(Judge(s, thresholds))) {
      Outcome o{true, i, ""};
      policy.ShouldRollBack(&o.why);
      return o;
    }
  }
  return {};
}

// A 1 ms probe on a busy 2-core server: mostly 0.8-3 ms, one sample in ten 5-15 ms.
microseconds Jittery(std::mt19937& rng) {
  std::uniform_int_distribution<int> spike(0, 9), calm(800, 3000), slow(5000, 15000);
  return microseconds(spike(rng) == 0 ? slow(rng) : calm(rng));
}

TEST(LatencyWindow, JitteryHealthyProbeNeverRollsBack) {
  std::mt19937 rng(31);
  auto outcome =
      Feed(LatencyWindow(LatencySource::kProbe, microseconds(1000)), 3600,
           [&](LatencyWindow& w, Clock::time_point at, int) { w.AddProbe(at, Jittery(rng)); });
  EXPECT_FALSE(outcome.tripped) << "second " << outcome.second << ": " << outcome.why;
}

TEST(LatencyWindow, TheOldRuleTripsOnTheSameSeries) {
  // Guards the test above: a 2x ratio with no margin, two verdicts in a row, is what rolled
  // healthy migrations back; on this series it does so within minutes.
  std::mt19937 rng(31);
  HealthThresholds old;
  old.latency_margin = microseconds(0);
  auto outcome = Feed(
      LatencyWindow(LatencySource::kProbe, microseconds(1000)), 3600,
      [&](LatencyWindow& w, Clock::time_point at, int) { w.AddProbe(at, Jittery(rng)); }, old, 2);
  EXPECT_TRUE(outcome.tripped);
}

// Statements of one second: `calls` statements taking `ms` each where they took `base_ms`.
StatementCost Second(std::int64_t calls, double ms, double base_ms) {
  return {calls, static_cast<double>(calls) * ms, static_cast<double>(calls) * base_ms};
}

TEST(LatencyWindow, SustainedThreeTimesSlowerStatementsRollBackAfterFiveVerdicts) {
  // 25 ms statements (a busy endpoint) at 75 ms from second 10 on: 3x and +50 ms.
  auto outcome = Feed(LatencyWindow(LatencySource::kStatements, {}), 60,
                      [](LatencyWindow& w, Clock::time_point at, int i) {
                        w.AddStatements(at, Second(400, i < 10 ? 25 : 75, 25));
                      });
  ASSERT_TRUE(outcome.tripped);
  EXPECT_EQ(outcome.second, 15);  // 11 is the first window mostly slow; the 5th from it
  EXPECT_NE(outcome.why.find("application statements take 75.0 ms"), std::string::npos)
      << outcome.why;
}

TEST(LatencyWindow, ThreeTimesSlowerUnderTheMarginHarmsNobody) {
  // 1 ms statements at 3 ms for an hour: 3x, but 2 ms is under the 20 ms margin.
  auto outcome = Feed(
      LatencyWindow(LatencySource::kStatements, {}), 3600,
      [](LatencyWindow& w, Clock::time_point at, int) { w.AddStatements(at, Second(2000, 3, 1)); });
  EXPECT_FALSE(outcome.tripped) << outcome.why;
}

TEST(LatencyWindow, ASpikeOfTwoSecondsIsNoTrend) {
  auto outcome = Feed(LatencyWindow(LatencySource::kStatements, {}), 120,
                      [](LatencyWindow& w, Clock::time_point at, int i) {
                        bool spike = i % 30 == 10 || i % 30 == 11;
                        w.AddStatements(at, Second(500, spike ? 400 : 2, 2));
                      });
  EXPECT_FALSE(outcome.tripped) << "second " << outcome.second << ": " << outcome.why;
}

TEST(LatencyWindow, SlowProbeOverTheMarginRollsBack) {
  auto outcome = Feed(LatencyWindow(LatencySource::kProbe, microseconds(1000)), 60,
                      [](LatencyWindow& w, Clock::time_point at, int i) {
                        w.AddProbe(at, microseconds(i < 20 ? 1000 : 40000));
                      });
  ASSERT_TRUE(outcome.tripped);
  EXPECT_EQ(outcome.second, 25);  // the median turns at 21, then five verdicts
}

TEST(LatencyWindow, EachStatementAgainstItsOwnMean) {
  StatementSnapshot baseline = {{"10:1", {1000, 1000.0}},  // lookups, 1 ms
                                {"10:2", {10, 5000.0}}};   // reports, 500 ms
  StatementSnapshot before = baseline;
  // More reports than usual, each as fast as ever: no slowdown. A new statement (zerodown's
  // backfill, say) is not the application's yardstick. 10:2 went back (a reset): not counted.
  StatementSnapshot now = {
      {"10:1", {1100, 1100.0}}, {"10:2", {30, 15000.0}}, {"10:9", {5, 5000.0}}};
  auto cost = CostBetween(baseline, before, now, {}, milliseconds(3000));
  EXPECT_EQ(cost.statements, 120);
  EXPECT_DOUBLE_EQ(cost.actual_ms, 100.0 + 10000.0);
  EXPECT_DOUBLE_EQ(cost.expected_ms, 100.0 + 10000.0);
  now["10:2"] = {5, 100.0};
  cost = CostBetween(baseline, before, now, {}, milliseconds(3000));
  EXPECT_EQ(cost.statements, 100);
}

TEST(LatencyWindow, AStatementStalledBehindALockCountsBeforeItFinishes) {
  StatementSnapshot baseline = {{"10:1", {1000, 1000.0}}};
  // Nothing finished in the second (every client waits), four are running, one for 10 s: it
  // counts 3 s (the window), the others as long as they have waited.
  std::vector<RunningStatement> running = {{"10:1", milliseconds(10000)},
                                           {"10:1", milliseconds(800)},
                                           {"10:1", milliseconds(900)},
                                           {"10:1", milliseconds(700)},
                                           {"10:7", milliseconds(9000)}};
  auto cost = CostBetween(baseline, baseline, baseline, running, milliseconds(3000));
  EXPECT_EQ(cost.statements, 4);  // three samples of a 3 s window make 12 >= min_statements
  EXPECT_DOUBLE_EQ(cost.actual_ms, 3000.0 + 800.0 + 900.0 + 700.0);
  EXPECT_DOUBLE_EQ(cost.expected_ms, 4.0);
  auto sample = ToLatencySample(cost);
  EXPECT_EQ(sample.source, LatencySource::kStatements);
  EXPECT_EQ(sample.current, microseconds(1350000));
  EXPECT_EQ(sample.baseline, microseconds(1000));
}

}  // namespace
}  // namespace zerodown::monitor
