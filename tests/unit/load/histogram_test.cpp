// The latency histogram agrees with an exact sorted reference within its stated relative error,
// merges losslessly, and keeps extreme values without overflow.
#include "zerodown/load/histogram.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <random>
#include <vector>

namespace zerodown::load {
namespace {

std::uint64_t NearestRank(std::vector<std::uint64_t> sorted, double percent) {
  auto rank = static_cast<std::size_t>(std::ceil(percent / 100.0 * sorted.size()));
  return sorted[std::clamp<std::size_t>(rank, 1, sorted.size()) - 1];
}

void ExpectClose(std::uint64_t actual, std::uint64_t expected, const char* what) {
  // Half a bucket: 1/128 of the value, and exact below 128.
  double tolerance = static_cast<double>(expected) / 128.0 + 1.0;
  EXPECT_NEAR(static_cast<double>(actual), static_cast<double>(expected), tolerance) << what;
}

TEST(HistogramTest, PercentilesMatchSortedReferenceOnRandomData) {
  std::mt19937_64 rng(42);
  // Log-normal like real latencies: most around a millisecond, a long tail.
  std::lognormal_distribution<double> latency(7.0, 1.5);
  for (int round = 0; round < 5; ++round) {
    LatencyHistogram histogram;
    std::vector<std::uint64_t> values;
    for (int i = 0; i < 20000; ++i) {
      auto v = static_cast<std::uint64_t>(latency(rng));
      values.push_back(v);
      histogram.Record(v);
    }
    std::sort(values.begin(), values.end());
    for (double p : {1.0, 10.0, 50.0, 90.0, 95.0, 99.0, 99.9})
      ExpectClose(histogram.Percentile(p), NearestRank(values, p), "percentile");
    EXPECT_EQ(histogram.Percentile(100), values.back());
    EXPECT_EQ(histogram.Percentile(0), values.front());
    EXPECT_EQ(histogram.min(), values.front());
    EXPECT_EQ(histogram.max(), values.back());
    EXPECT_EQ(histogram.count(), values.size());
  }
}

TEST(HistogramTest, SmallValuesAreExact) {
  LatencyHistogram histogram;
  for (std::uint64_t v = 0; v < 100; ++v) histogram.Record(v);
  EXPECT_EQ(histogram.Percentile(50), 49u);
  EXPECT_EQ(histogram.Percentile(99), 98u);
  EXPECT_EQ(histogram.CountAbove(89), 10u);
}

TEST(HistogramTest, MergeEqualsRecordingEverythingInOne) {
  std::mt19937_64 rng(7);
  std::uniform_int_distribution<std::uint64_t> latency(0, 3'000'000);
  LatencyHistogram all;
  std::vector<LatencyHistogram> parts(4);
  for (int i = 0; i < 40000; ++i) {
    auto v = latency(rng);
    all.Record(v);
    parts[i % 4].Record(v);
  }
  LatencyHistogram merged;
  for (const auto& part : parts) merged.Merge(part);
  EXPECT_EQ(merged.count(), all.count());
  EXPECT_EQ(merged.min(), all.min());
  EXPECT_EQ(merged.max(), all.max());
  for (double p : {50.0, 95.0, 99.0, 99.99}) EXPECT_EQ(merged.Percentile(p), all.Percentile(p));
  merged.Merge(LatencyHistogram());  // an empty histogram changes nothing
  EXPECT_EQ(merged.min(), all.min());
}

TEST(HistogramTest, ExtremeValuesLandInTheLastBucketAndKeepExactMax) {
  LatencyHistogram histogram;
  histogram.Record(0);
  histogram.Record(~std::uint64_t{0});
  histogram.Record(std::uint64_t{1} << 45);
  EXPECT_EQ(histogram.count(), 3u);
  EXPECT_EQ(histogram.min(), 0u);
  EXPECT_EQ(histogram.max(), ~std::uint64_t{0});
  EXPECT_EQ(histogram.Percentile(100), ~std::uint64_t{0});
  EXPECT_EQ(histogram.Percentile(1), 0u);
  EXPECT_EQ(LatencyHistogram::BucketOf(~std::uint64_t{0}), LatencyHistogram::kBucketCount - 1);
}

TEST(HistogramTest, EmptyHistogramReportsZeros) {
  LatencyHistogram histogram;
  EXPECT_EQ(histogram.count(), 0u);
  EXPECT_EQ(histogram.min(), 0u);
  EXPECT_EQ(histogram.max(), 0u);
  EXPECT_EQ(histogram.Percentile(99), 0u);
}

TEST(HistogramTest, BucketsTileTheRangeWithoutGaps) {
  for (int b = 0; b + 1 < LatencyHistogram::kBucketCount; ++b) {
    ASSERT_EQ(LatencyHistogram::BucketHigh(b) + 1, LatencyHistogram::BucketLow(b + 1)) << b;
    ASSERT_EQ(LatencyHistogram::BucketOf(LatencyHistogram::BucketLow(b)), b);
    ASSERT_EQ(LatencyHistogram::BucketOf(LatencyHistogram::BucketHigh(b)), b);
  }
}

TEST(HistogramTest, ResetForgetsEverything) {
  LatencyHistogram histogram;
  histogram.Record(5000);
  histogram.Reset();
  EXPECT_EQ(histogram.count(), 0u);
  EXPECT_EQ(histogram.max(), 0u);
}

}  // namespace
}  // namespace zerodown::load
