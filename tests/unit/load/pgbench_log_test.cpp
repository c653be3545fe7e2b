// pgbench's per-transaction log read into the runner's report: a transaction counts in the window
// it was scheduled to start in (its end minus its latency, schedule lag included), in the second
// it ended on the timeline, and failures by their SQLSTATE.
#include "zerodown/load/pgbench_log.hpp"

#include <gtest/gtest.h>

namespace zerodown::load {
namespace {

TEST(PgbenchLogTest, ParsesALineWithAndWithoutScheduleLag) {
  auto plain = ParsePgbenchLogLine("3 117 2412 0 1765000000 250000");
  ASSERT_TRUE(plain.has_value());
  EXPECT_EQ(plain->latency_us, 2412u);
  EXPECT_DOUBLE_EQ(plain->end_epoch_s, 1765000000.25);
  EXPECT_TRUE(plain->sqlstate.empty());
  auto rated = ParsePgbenchLogLine("0 9 150000 0 1765000001 5 149000");
  ASSERT_TRUE(rated.has_value());
  EXPECT_EQ(rated->latency_us, 150000u);
  EXPECT_EQ(rated->schedule_lag_us, 149000u);
}

TEST(PgbenchLogTest, FailuresAreCountedAndSkippedOrCutLinesAreNot) {
  EXPECT_EQ(ParsePgbenchLogLine("1 2 deadlock 0 1765000000 1 0")->sqlstate, "40P01");
  EXPECT_EQ(ParsePgbenchLogLine("1 2 serialization 0 1765000000 1 0")->sqlstate, "40001");
  EXPECT_EQ(ParsePgbenchLogLine("1 2 failed 0 1765000000 1 0")->sqlstate, "pgbench-failed");
  EXPECT_FALSE(ParsePgbenchLogLine("1 2 skipped 0 1765000000 1 0").has_value());
  EXPECT_FALSE(ParsePgbenchLogLine("1 2 2412 0 17650").has_value());
  EXPECT_FALSE(ParsePgbenchLogLine("").has_value());
}

TEST(PgbenchLogTest, AQueuedTransactionBelongsToTheWindowItBeganIn) {
  const double origin = 1765000000;
  PgbenchTally tally(origin, {{"start", 10}, {"end", 14}}, 20);
  // 10 fast transactions a second before, during and after the change...
  for (int s = 0; s < 20; ++s)
    for (int i = 0; i < 10; ++i) tally.Add({origin + s + 0.05 * i + 0.01, 2000, 0, ""});
  // ...one that began at 13.5 s and took 2 s: it ends after the change, counts in it; and one
  // scheduled at 13 s that began at 14.5 s, after the change, behind a queue: it counts after
  // it, with its wait in its latency.
  tally.Add({origin + 15.5, 2'000'000, 0, ""});
  tally.Add({origin + 14.51, 1'510'000, 1'500'000, ""});
  tally.AddAborted(12);
  auto report = tally.Report({}).value();
  ASSERT_TRUE(report.has_change);
  EXPECT_EQ(report.during.transactions, 41u);
  EXPECT_NEAR(report.during.max_ms, 2000, 20);
  EXPECT_EQ(report.during.slow, 1u);
  EXPECT_EQ(report.during.failed, 1u);
  EXPECT_EQ(report.during.errors.at("pgbench-aborted"), 1u);
  EXPECT_NEAR(report.after.max_ms, 1510, 20);
  EXPECT_EQ(report.after.transactions, 61u);
  ASSERT_EQ(report.timeline.size(), 20u);
  EXPECT_EQ(report.timeline[15].transactions, 11u);  // counted where it ended
  ASSERT_FALSE(report.slowest.empty());
  EXPECT_NEAR(report.slowest.front().began_s, 13.5, 1e-6);
}

}  // namespace
}  // namespace zerodown::load
