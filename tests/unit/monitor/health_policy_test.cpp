#include "zerodown/monitor/health_policy.hpp"

#include <gtest/gtest.h>

namespace zerodown::monitor {
namespace {

using std::chrono::microseconds;

HealthSample Errors(std::int64_t commits, std::int64_t rollbacks) {
  HealthSample s;
  s.commits = commits;
  s.rollbacks = rollbacks;
  return s;
}

HealthSample Latency(int us, int baseline_us, LatencySource source = LatencySource::kProbe,
                     std::int64_t statements = 1000) {
  HealthSample s;
  s.latency = LatencySample{source, microseconds(us), microseconds(baseline_us), statements};
  return s;
}

TEST(HealthPolicy, DefaultsAreTheSeedsThresholds) {
  HealthThresholds t;
  EXPECT_EQ(t.alert_error_rate, 0.01);
  EXPECT_EQ(t.alert_latency_ratio, 1.5);
  EXPECT_EQ(t.rollback_error_rate, 0.05);
  EXPECT_EQ(t.rollback_latency_ratio, 2.0);
}

TEST(HealthPolicy, ErrorRateLevels) {
  HealthThresholds t;
  EXPECT_EQ(Judge(Errors(1000, 10), t).state, HealthState::kOk);    // 0.99%
  EXPECT_EQ(Judge(Errors(980, 20), t).state, HealthState::kAlert);  // 2%
  EXPECT_EQ(Judge(Errors(950, 50), t).state, HealthState::kAlert);  // exactly 5%: not over
  auto v = Judge(Errors(900, 100), t);                              // 10%
  EXPECT_EQ(v.state, HealthState::kRollback);
  EXPECT_EQ(v.Summary(), "error rate 10.0% (100 of 1000 transactions rolled back) > 5%");
}

TEST(HealthPolicy, TooFewTransactionsSayNothing) {
  HealthThresholds t;
  auto v = Judge(Errors(1, 2), t);
  EXPECT_EQ(v.state, HealthState::kOk);
  EXPECT_TRUE(v.checks.empty());
}

TEST(HealthPolicy, LatencyNeedsTheRatioAndTheMargin) {
  HealthThresholds t;
  EXPECT_EQ(t.latency_margin, microseconds(20000));
  // The reported false trip: 2.3 ms against 1.0 ms is 2.3x but 1.3 ms worse. Nobody is harmed.
  EXPECT_EQ(Judge(Latency(2300, 1000), t).state, HealthState::kOk);
  EXPECT_EQ(Judge(Latency(20900, 1000), t).state, HealthState::kOk);  // +19.9 ms
  EXPECT_EQ(Judge(Latency(25000, 1000), t).state, HealthState::kRollback);
  // Over the margin but not the ratio: a 100 ms statement taking 130 ms alerts at most.
  EXPECT_EQ(Judge(Latency(130000, 100000), t).state, HealthState::kOk);
  EXPECT_EQ(Judge(Latency(160000, 100000), t).state, HealthState::kAlert);
  EXPECT_EQ(Judge(Latency(210000, 100000), t).state, HealthState::kRollback);
  t.latency_margin = microseconds(0);
  EXPECT_EQ(Judge(Latency(2300, 1000), t).state, HealthState::kRollback);
}

TEST(HealthPolicy, StatementLatencyNamesTheApplicationsStatements) {
  HealthThresholds t;
  auto v = Judge(Latency(150000, 2000, LatencySource::kStatements, 480), t);
  ASSERT_EQ(v.checks.size(), 1u);
  EXPECT_EQ(v.checks[0].check, kStatementLatencyCheck);
  EXPECT_EQ(v.state, HealthState::kRollback);
  EXPECT_EQ(v.Summary(),
            "application statements take 150.0 ms on average (480 statements), 75.0x the 2.0 ms "
            "before the migration > 2x and > +20 ms");
  // Too few statements in the window say nothing.
  EXPECT_TRUE(Judge(Latency(150000, 2000, LatencySource::kStatements, 5), t).checks.empty());
}

TEST(HealthPolicy, LagAlertsButDoesNotRollBackByDefault) {
  HealthThresholds t;
  HealthSample s;
  s.lag_bytes = 1LL << 40;
  auto v = Judge(s, t);
  EXPECT_EQ(v.state, HealthState::kAlert);
  EXPECT_NE(v.Summary().find("replication lag 1.0 TB > 256 MB"), std::string::npos) << v.Summary();
}

TEST(HealthPolicy, ConsistencyFailureAsksForRollback) {
  HealthSample s;
  s.consistency_failure = "row count 10 vs 9";
  auto v = Judge(s, HealthThresholds{});
  EXPECT_EQ(v.state, HealthState::kRollback);
  AutoRollbackPolicy policy(5);
  EXPECT_TRUE(policy.Observe(v));  // at once, whatever the sustain
  std::string why;
  EXPECT_TRUE(policy.ShouldRollBack(&why));
  EXPECT_EQ(why, "consistency check failed: row count 10 vs 9");
}

TEST(HealthPolicy, RollbackNeedsASustainedRun) {
  HealthThresholds t;
  AutoRollbackPolicy policy(2);
  auto bad = Judge(Errors(90, 10), t);
  auto fine = Judge(Errors(100, 0), t);
  auto alert = Judge(Errors(97, 3), t);
  EXPECT_FALSE(policy.Observe(bad));
  EXPECT_FALSE(policy.Observe(fine));  // the run restarts
  EXPECT_FALSE(policy.Observe(bad));
  EXPECT_FALSE(policy.Observe(alert));  // alert is not rollback
  EXPECT_FALSE(policy.ShouldRollBack(nullptr));
  EXPECT_FALSE(policy.Observe(bad));
  EXPECT_TRUE(policy.Observe(bad));
  EXPECT_TRUE(policy.Observe(fine));  // stays tripped
  std::string why;
  ASSERT_TRUE(policy.ShouldRollBack(&why));
  EXPECT_NE(why.find("error rate 10.0%"), std::string::npos) << why;
}

TEST(HealthPolicy, ConfigurableAndOff) {
  HealthThresholds t;
  t.rollback_error_rate = 0;  // off: 50% errors only alert
  t.rollback_latency_ratio = 10;
  EXPECT_EQ(Judge(Errors(50, 50), t).state, HealthState::kAlert);
  EXPECT_EQ(Judge(Latency(50000, 10000), t).state, HealthState::kAlert);
  EXPECT_EQ(Judge(Latency(110000, 10000), t).state, HealthState::kRollback);
}

TEST(HealthPolicy, WhyListsOnlyRollbackChecks) {
  HealthSample s = Errors(80, 20);
  s.latency = LatencySample{LatencySource::kProbe, microseconds(40000), microseconds(1000), 3};
  auto v = Judge(s, HealthThresholds{});
  AutoRollbackPolicy policy(1);
  ASSERT_TRUE(policy.Observe(v));
  std::string why;
  ASSERT_TRUE(policy.ShouldRollBack(&why));
  EXPECT_EQ(why.find("probe"), std::string::npos) << why;
  EXPECT_NE(v.Summary().find("probe latency"), std::string::npos);
  EXPECT_EQ(HealthStateName(HealthState::kRollback), "rollback");
}

}  // namespace
}  // namespace zerodown::monitor
