// How long a catch-up would take at the pace since it began, which decides whether it grows to
// catch_up_sessions.
#include <gtest/gtest.h>

#include "engine/shadow/replayer.hpp"

namespace zerodown::engine::shadow {
namespace {

TEST(CatchUpPace, SecondsLeftAtThePaceSinceTheStart) {
  // 10,000 entries replayed net in a second: 90,000 left take 9 s.
  EXPECT_DOUBLE_EQ(*CatchUpSecondsLeft(100000, 90000, 1.0), 9.0);
  // A short log nearly done.
  EXPECT_DOUBLE_EQ(*CatchUpSecondsLeft(10000, 2000, 2.0), 0.5);
}

TEST(CatchUpPace, ALogThatGotNoShorterHasNoEnd) {
  EXPECT_FALSE(CatchUpSecondsLeft(1000, 1000, 1.0).has_value());
  EXPECT_FALSE(CatchUpSecondsLeft(1000, 1200, 1.0).has_value());
}

}  // namespace
}  // namespace zerodown::engine::shadow
