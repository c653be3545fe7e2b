// Promise: `zerodown bluegreen unfence` lifts the write fence of the database it is given: the
// one `finish` left on the side that no longer serves (fence function and triggers gone, writes
// taken again), or green's in a pair after a switch back (a later switch fences again). It refuses
// the side that serves, changing nothing, and a second run finds nothing to lift.
#include <gtest/gtest.h>

#include "support/bluegreen_pair.hpp"

namespace zerodown::testing {
namespace {

constexpr std::string_view kWrite = "INSERT INTO ledger (client, amount) VALUES (7, 7)";
constexpr std::string_view kFenceTriggers =
    "SELECT count(*) FROM pg_trigger WHERE tgname = 'zerodown_bluegreen_fence'";

std::string Unfence(const std::string& conninfo) {
  return "--postgres-url " + Quoted(conninfo) + " bluegreen unfence";
}

bool Refused(const std::string& conninfo) {
  auto result = Connect(conninfo).TryExec(std::string(kWrite));
  if (result.ok()) return false;
  EXPECT_EQ(result.error().sqlstate(), "25006");
  return true;
}

// `bluegreen switch FLAGS` with no traffic mover, which must succeed.
void Switched(const BlueGreenPair& pair, const std::string& flags) {
  int code = 0;
  std::string out;
  pair.Switch(flags, &code, &out);
  ASSERT_EQ(code, 0) << out;
}

TEST(BlueGreenUnfence, LiftsTheFenceFinishLeftAndRefusesTheServingSide) {
  BlueGreenPair pair;
  ASSERT_NO_FATAL_FAILURE(pair.Create());
  ASSERT_NO_FATAL_FAILURE(Switched(pair, ""));
  std::string out;
  ASSERT_TRUE(Refused(pair.blue)) << "blue is fenced once green serves";

  EXPECT_EQ(RunZerodown(Unfence(pair.green), &out), 2) << out;
  EXPECT_NE(out.find("the side of the pair that serves"), std::string::npos) << out;
  EXPECT_TRUE(Refused(pair.blue)) << "a refused unfence changes nothing";

  ASSERT_EQ(RunZerodown(BlueGreen("finish", pair.blue, pair.green), &out), 0) << out;
  EXPECT_TRUE(Refused(pair.blue)) << "finish keeps the fence of the side that does not serve";
  ASSERT_EQ(RunZerodown(Unfence(pair.blue), &out), 0) << out;
  EXPECT_NE(out.find("lifted the write fence of 1 table(s)"), std::string::npos) << out;
  EXPECT_TRUE(Connect(pair.blue).TryExec(std::string(kWrite)).ok());
  EXPECT_EQ(Count(pair.blue, std::string(kFenceTriggers)), 0);
  EXPECT_EQ(Count(pair.blue, "SELECT count(*) FROM pg_proc WHERE proname = 'bluegreen_fence'"), 0);
  ASSERT_EQ(RunZerodown(Unfence(pair.blue), &out), 0) << out;
  EXPECT_NE(out.find("not fenced"), std::string::npos) << out;
}

TEST(BlueGreenUnfence, GreenUnfencedInAPairIsFencedAgainByTheNextSwitch) {
  BlueGreenPair pair;
  ASSERT_NO_FATAL_FAILURE(pair.Create());
  ASSERT_NO_FATAL_FAILURE(Switched(pair, ""));
  ASSERT_NO_FATAL_FAILURE(Switched(pair, "--back"));
  std::string out;
  ASSERT_TRUE(Refused(pair.green)) << "green keeps its fence after the switch back";

  ASSERT_EQ(RunZerodown(Unfence(pair.green), &out), 0) << out;
  EXPECT_NE(out.find("still receives the serving side's changes"), std::string::npos) << out;
  EXPECT_EQ(Count(pair.green, std::string(kFenceTriggers)), 0);
  // The pair goes on: blue's writes arrive, and the next switch fences blue with the function
  // green kept.
  Connect(pair.blue).Exec(std::string(kWrite));
  pair.WaitEqual("SELECT count(*) FROM ledger");
  EXPECT_EQ(Count(pair.green, "SELECT count(*) FROM ledger WHERE client = 7"), 1);
  ASSERT_NO_FATAL_FAILURE(Switched(pair, ""));
  EXPECT_TRUE(Refused(pair.blue));
  EXPECT_TRUE(Connect(pair.green).TryExec(std::string(kWrite)).ok());
  ExpectFinishLeavesNothing(pair);
}

}  // namespace
}  // namespace zerodown::testing
