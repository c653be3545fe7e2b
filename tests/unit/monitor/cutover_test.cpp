#include "zerodown/monitor/cutover.hpp"

#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "support/message_log.hpp"
#include "zerodown/common/error.hpp"

namespace zerodown::monitor {
namespace {

using namespace std::chrono_literals;

// Postponed for the first `polls` questions, released after.
std::function<bool()> PostponedFor(int polls, int* asked) {
  return [polls, asked] { return (*asked)++ < polls; };
}

TEST(Cutover, NotPostponedGoesOnAtOnceSayingNothing) {
  testing::MessageLog progress;
  int asked = 0;
  auto started = std::chrono::steady_clock::now();
  auto waited = WaitForCutover(PostponedFor(0, &asked), progress, {1s, {}});
  EXPECT_LT(std::chrono::steady_clock::now() - started, 100ms);
  EXPECT_EQ(waited.count(), 0);
  EXPECT_EQ(asked, 1);
  EXPECT_TRUE(progress.messages.empty());
}

TEST(Cutover, WaitsUntilReleasedAndSaysSoOnce) {
  testing::MessageLog progress;
  int asked = 0;
  int polls = 0;
  CutoverWaitOptions options;
  options.poll_interval = 5ms;
  options.while_waiting = [&polls] { ++polls; };
  auto waited = WaitForCutover(PostponedFor(4, &asked), progress, options);
  EXPECT_EQ(asked, 5);  // four times postponed, then released
  EXPECT_EQ(polls, 4);
  EXPECT_GE(waited, 20ms);
  ASSERT_EQ(progress.messages.size(), 2u);
  EXPECT_EQ(progress.messages[0],
            "cut-over postponed by `zerodown postpone-cutover`; run `zerodown cutover` to let it "
            "proceed");
  EXPECT_NE(progress.messages[1].find("released by `zerodown cutover` after"), std::string::npos)
      << progress.messages[1];
}

TEST(Cutover, WhileWaitingCanEndTheWait) {
  testing::MessageLog progress;
  int asked = 0;
  CutoverWaitOptions options;
  options.poll_interval = 1ms;
  options.while_waiting = [] { throw Error(ErrorKind::kMigrationFailed, "automatic rollback: x"); };
  EXPECT_THROW(WaitForCutover(PostponedFor(1000, &asked), progress, options), Error);
  EXPECT_EQ(asked, 1);
  EXPECT_EQ(progress.messages.size(), 1u);  // postponed, never released
}

}  // namespace
}  // namespace zerodown::monitor
