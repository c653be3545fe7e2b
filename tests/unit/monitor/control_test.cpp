#include "zerodown/monitor/control.hpp"

#include <gtest/gtest.h>

namespace zerodown::monitor {
namespace {

using std::chrono::milliseconds;

TEST(Control, LagLimitSizes) {
  EXPECT_EQ(ParseLagLimit("64MB")->bytes, 64LL * 1024 * 1024);
  EXPECT_EQ(ParseLagLimit("512kB")->bytes, 512LL * 1024);
  EXPECT_EQ(ParseLagLimit("1 GB")->bytes, 1024LL * 1024 * 1024);
  EXPECT_EQ(ParseLagLimit("4096")->bytes, 4096);
  EXPECT_FALSE(ParseLagLimit("64MB")->seconds.has_value());
}

TEST(Control, LagLimitDurations) {
  EXPECT_EQ(ParseLagLimit("30s")->seconds, 30.0);
  EXPECT_EQ(ParseLagLimit("500ms")->seconds, 0.5);
  EXPECT_EQ(ParseLagLimit("2min")->seconds, 120.0);
  EXPECT_FALSE(ParseLagLimit("30s")->bytes.has_value());
}

TEST(Control, LagLimitRejectsNonsense) {
  for (const char* bad : {"", "fast", "-5MB", "10 parsecs", "MB"}) {
    auto r = ParseLagLimit(bad);
    ASSERT_FALSE(r.ok()) << bad;
    EXPECT_EQ(r.error().kind(), ErrorKind::kUsage);
    EXPECT_NE(r.error().fix().find("64MB"), std::string::npos);
  }
}

TEST(Control, ChunkTime) {
  EXPECT_EQ(*ParseChunkTime("200ms"), milliseconds(200));
  EXPECT_EQ(*ParseChunkTime("200"), milliseconds(200));
  EXPECT_EQ(*ParseChunkTime("1.5s"), milliseconds(1500));
  EXPECT_FALSE(ParseChunkTime("1ms").ok());
  EXPECT_FALSE(ParseChunkTime("11s").ok());
  EXPECT_FALSE(ParseChunkTime("soon").ok());
}

TEST(Control, RowsToValues) {
  auto v = ParseControlRows({{"paused", "true"}, {"chunk-time", "300ms"}, {"max-lag", "10s"}});
  EXPECT_TRUE(v.paused);
  EXPECT_EQ(v.chunk_time, milliseconds(300));
  EXPECT_EQ(v.max_lag_seconds, 10.0);
  EXPECT_FALSE(v.max_lag_bytes.has_value());
}

TEST(Control, CutoverPostponed) {
  EXPECT_TRUE(ParseControlRows({{"cutover-postponed", "true"}}).cutover_postponed);
  EXPECT_FALSE(ParseControlRows({{"cutover-postponed", "false"}}).cutover_postponed);
  EXPECT_FALSE(ParseControlRows({{"paused", "true"}}).cutover_postponed);
  // Postponing the cut-over does not pause the backfill, nor the other way round.
  EXPECT_FALSE(ParseControlRows({{"cutover-postponed", "true"}}).paused);
}

TEST(Control, BadRowsAreIgnoredNotFatal) {
  auto v = ParseControlRows({{"paused", "false"}, {"chunk-time", "forever"}, {"colour", "red"}});
  EXPECT_FALSE(v.paused);
  EXPECT_FALSE(v.chunk_time.has_value());
  EXPECT_FALSE(ParseControlRows({}).paused);
}

}  // namespace
}  // namespace zerodown::monitor
