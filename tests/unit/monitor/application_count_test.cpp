// The application's transaction counts: pg_stat_database's less zerodown's own, which reach the
// database's counters after zerodown counted them.
#include <gtest/gtest.h>

#include "zerodown/monitor/health_policy.hpp"

namespace zerodown::monitor {
namespace {

TEST(ApplicationCount, OursAreTakenAwayWhenTheyLandLate) {
  ApplicationCount rollbacks;
  EXPECT_EQ(rollbacks.Observe(10, 0), 10);
  // zerodown rolled back three transactions; the server has not reported them yet.
  EXPECT_EQ(rollbacks.Observe(10, 3), 10);
  // Now it has: none of them is the application's.
  EXPECT_EQ(rollbacks.Observe(13, 3), 10);
  // The application's own rollback counts.
  EXPECT_EQ(rollbacks.Observe(14, 3), 11);
}

TEST(ApplicationCount, AnApplicationRollbackShowsOnceOursHaveLanded) {
  ApplicationCount rollbacks;
  EXPECT_EQ(rollbacks.Observe(0, 0), 0);
  EXPECT_EQ(rollbacks.Observe(1, 2), 0) << "two of ours on their way, one of the application's";
  EXPECT_EQ(rollbacks.Observe(3, 2), 1);
}

TEST(ApplicationCount, AResetOfTheDatabaseCountersGoesOnFromWhereItWas) {
  ApplicationCount commits;
  EXPECT_EQ(commits.Observe(1000, 100), 900);
  EXPECT_EQ(commits.Observe(1100, 150), 950);
  // pg_stat_reset(): the database's counter starts again from zero.
  EXPECT_EQ(commits.Observe(5, 150), 950);
  EXPECT_EQ(commits.Observe(25, 160), 960) << "20 more, 10 of them ours";
}

}  // namespace
}  // namespace zerodown::monitor
