#include <gtest/gtest.h>

#include <set>

#include "zerodown/pg/lock_retry.hpp"

namespace zerodown::pg {
namespace {

using std::chrono::milliseconds;

TEST(BackoffDelayTest, DoublesFromTheFirstBackoffUpToTheCapWithoutJitter) {
  LockRetryPolicy policy;
  policy.first_backoff = milliseconds(50);
  policy.max_backoff = milliseconds(1000);
  policy.jitter = 0;
  std::mt19937_64 rng(1);
  EXPECT_EQ(BackoffDelay(policy, 1, rng), milliseconds(50));
  EXPECT_EQ(BackoffDelay(policy, 2, rng), milliseconds(100));
  EXPECT_EQ(BackoffDelay(policy, 3, rng), milliseconds(200));
  EXPECT_EQ(BackoffDelay(policy, 5, rng), milliseconds(800));
  EXPECT_EQ(BackoffDelay(policy, 6, rng), milliseconds(1000));
  EXPECT_EQ(BackoffDelay(policy, 60, rng), milliseconds(1000));
}

TEST(BackoffDelayTest, JitterStaysWithinItsBandAndVaries) {
  LockRetryPolicy policy;
  policy.first_backoff = milliseconds(100);
  policy.jitter = 0.5;
  std::mt19937_64 rng(42);
  std::set<std::int64_t> seen;
  for (int i = 0; i < 200; ++i) {
    auto delay = BackoffDelay(policy, 1, rng);
    EXPECT_GE(delay.count(), 50);
    EXPECT_LE(delay.count(), 150);
    seen.insert(delay.count());
  }
  EXPECT_GT(seen.size(), 20u) << "jitter should spread retries, not repeat one delay";
}

}  // namespace
}  // namespace zerodown::pg
