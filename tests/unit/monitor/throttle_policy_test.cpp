#include "zerodown/monitor/throttle_policy.hpp"

#include <gtest/gtest.h>

namespace zerodown::monitor {
namespace {

using std::chrono::microseconds;

ThrottleLimits Limits() {
  ThrottleLimits limits;
  limits.max_lag_bytes = 1000;
  limits.max_lag_seconds = 5;
  limits.max_lock_waiters = 2;
  limits.max_probe_latency_ratio = 2;
  limits.min_probe_baseline = microseconds(100);
  limits.max_active = 10;
  return limits;
}

TEST(ThrottlePolicy, NothingMeasuredNeverWaits) {
  auto d = Decide(ThrottleSignals{}, Limits());
  EXPECT_FALSE(d.wait);
  EXPECT_EQ(d.reason, "");
}

struct Case {
  const char* name;
  ThrottleSignals signals;
  bool wait;
  const char* reason_part;
};

class DecideTest : public ::testing::TestWithParam<Case> {};

TEST_P(DecideTest, WaitsOnlyOverTheLimitAndSaysWhy) {
  const Case& c = GetParam();
  auto d = Decide(c.signals, Limits());
  EXPECT_EQ(d.wait, c.wait) << d.reason;
  if (c.wait) {
    EXPECT_NE(d.reason.find(c.reason_part), std::string::npos) << d.reason;
  } else {
    EXPECT_EQ(d.reason, "");
  }
}

ThrottleSignals Lag(std::optional<std::int64_t> bytes, std::optional<double> seconds) {
  ThrottleSignals s;
  s.standbys.push_back({"replica1", std::nullopt, std::nullopt});
  s.standbys.push_back({"replica2", bytes, seconds});
  return s;
}

ThrottleSignals Locks(int waiters) {
  ThrottleSignals s;
  s.lock_waiters = waiters;
  return s;
}

ThrottleSignals Probe(int latency_us, int baseline_us) {
  ThrottleSignals s;
  s.probe_latency = microseconds(latency_us);
  s.probe_baseline = microseconds(baseline_us);
  return s;
}

ThrottleSignals Active(int n) {
  ThrottleSignals s;
  s.active_connections = n;
  return s;
}

ThrottleSignals PauseFile(bool present) {
  ThrottleSignals s;
  s.pause_file = "/tmp/stop";
  s.pause_file_present = present;
  return s;
}

ThrottleSignals Paused() {
  ThrottleSignals s;
  s.paused_by_control = true;
  return s;
}

INSTANTIATE_TEST_SUITE_P(
    Signals, DecideTest,
    ::testing::Values(Case{"lag_bytes_at_limit", Lag(1000, 0.1), false, ""},
                      Case{"lag_bytes_over", Lag(1001, 0.1), true,
                           "replication lag 1001 B on replica2"},
                      Case{"lag_seconds_over", Lag(10, 6.5), true, "6.5 s on replica2 > 5 s"},
                      Case{"lag_unknown", Lag(std::nullopt, std::nullopt), false, ""},
                      Case{"locks_at_limit", Locks(2), false, ""},
                      Case{"locks_over", Locks(3), true, "3 sessions wait on locks"},
                      Case{"probe_at_ratio", Probe(400, 200), false, ""},
                      Case{"probe_over_ratio", Probe(401, 200), true, "probe latency"},
                      // A 20 µs baseline is lifted to the 100 µs floor: 150 µs is 1.5x, fine.
                      Case{"probe_floor", Probe(150, 20), false, ""},
                      Case{"probe_over_floor", Probe(250, 20), true, "2.5x"},
                      Case{"active_at_limit", Active(10), false, ""},
                      Case{"active_over", Active(11), true, "11 active connections > 10"},
                      Case{"pause_file_absent", PauseFile(false), false, ""},
                      Case{"pause_file_present", PauseFile(true), true, "pause file /tmp/stop"},
                      Case{"control_pause", Paused(), true, "zerodown pause"}),
    [](const auto& info) { return std::string(info.param.name); });

TEST(ThrottlePolicy, ZeroTurnsALimitOff) {
  ThrottleLimits off;
  off.max_lag_bytes = 0;
  off.max_lag_seconds = 0;
  off.max_lock_waiters = 0;
  off.max_probe_latency_ratio = 0;
  off.max_active = 0;
  ThrottleSignals s = Lag(1LL << 40, 3600);
  s.lock_waiters = 100;
  s.probe_latency = microseconds(1000000);
  s.probe_baseline = microseconds(10);
  s.active_connections = 1000;
  EXPECT_FALSE(Decide(s, off).wait);
}

TEST(ThrottlePolicy, EveryReasonIsListed) {
  ThrottleSignals s = Lag(5000, 1);
  s.lock_waiters = 9;
  s.paused_by_control = true;
  auto d = Decide(s, Limits());
  ASSERT_TRUE(d.wait);
  EXPECT_EQ(d.reason.find("paused by"), 0u) << d.reason;
  EXPECT_NE(d.reason.find("; replication lag 4.9 kB on replica2 > 1000 B"), std::string::npos)
      << d.reason;
  EXPECT_NE(d.reason.find("; 9 sessions"), std::string::npos) << d.reason;
}

TEST(ThrottlePolicy, MaxLagOverStandbys) {
  ThrottleSignals s;
  s.standbys = {{"a", 10, 0.5}, {"b", 30, std::nullopt}, {"c", std::nullopt, 2.0}};
  EXPECT_EQ(s.MaxLagBytes(), 30);
  EXPECT_EQ(s.MaxLagSeconds(), 2.0);
  EXPECT_FALSE(ThrottleSignals{}.MaxLagBytes().has_value());
}

TEST(ThrottlePolicy, HeadroomWaitsWhenTheApplicationQueuesBehindUs) {
  ThrottleLimits limits;  // one session more or twice the level before, whichever is more
  ThrottleSignals s;
  s.app_active_baseline = 1.0;
  s.app_active = 2.0;  // line: 1 + max(1, 0.5) = 2
  EXPECT_FALSE(Decide(s, limits).wait);
  s.app_active = 2.5;
  auto d = Decide(s, limits);
  ASSERT_TRUE(d.wait);
  EXPECT_TRUE(d.headroom_only);
  EXPECT_NE(d.reason.find("2.5 sessions active, 1.0 before"), std::string::npos) << d.reason;
  s.app_active_baseline = 4.0;  // line: 4 + max(1, 4) = 8
  s.app_active = 7.5;
  EXPECT_FALSE(Decide(s, limits).wait);
  s.app_active = 8.5;
  s.lock_waiters = 9;
  d = Decide(s, limits);
  ASSERT_TRUE(d.wait);
  EXPECT_FALSE(d.headroom_only);  // a lock wait is not bounded like a wait for headroom
  limits.headroom_slack = 0;
  s.lock_waiters.reset();
  EXPECT_FALSE(Decide(s, limits).wait);
}

TEST(ThrottlePolicy, AnApplicationThatKeepsEveryConnectionBusyLeavesNoHeadroom) {
  ThrottleLimits limits;
  EXPECT_TRUE(LeavesHeadroom({1.5, 8}, limits));   // line 3 < 8 connections
  EXPECT_FALSE(LeavesHeadroom({4.5, 8}, limits));  // line 9 >= 8: it can never cross it
  EXPECT_FALSE(LeavesHeadroom({0.0, 0}, limits));  // no application at all
  limits.headroom_slack = 0;
  EXPECT_FALSE(LeavesHeadroom({1.5, 8}, limits));
}

TEST(ThrottlePolicy, AClosedLoopWithFewSessionsActiveStillKeepsEveryConnectionBusy) {
  ThrottleLimits limits;
  // 1.2 of 8 active, but 7.6 inside a transaction: the rest wait on their clients between the
  // statements of a transaction, and the next transaction follows at once.
  ApplicationLevel closed_loop{1.2, 8, 7.6};
  EXPECT_TRUE(KeepsEveryConnectionBusy(closed_loop));
  EXPECT_FALSE(LeavesHeadroom(closed_loop, limits));
  // The same active level with idle time between transactions leaves headroom.
  ApplicationLevel offered_rate{1.2, 8, 4.0};
  EXPECT_FALSE(KeepsEveryConnectionBusy(offered_rate));
  EXPECT_TRUE(LeavesHeadroom(offered_rate, limits));
  EXPECT_FALSE(KeepsEveryConnectionBusy({0.0, 0, 0.0}));  // no application at all
}

TEST(ThrottlePolicy, FormatBytes) {
  EXPECT_EQ(FormatBytes(512), "512 B");
  EXPECT_EQ(FormatBytes(1536), "1.5 kB");
  EXPECT_EQ(FormatBytes(128LL * 1024 * 1024), "128 MB");
  EXPECT_EQ(FormatBytes(3LL * 1024 * 1024 * 1024), "3.0 GB");
}

}  // namespace
}  // namespace zerodown::monitor
