// Promise: `zerodown bluegreen switch` moves a writing application from blue to green and
// `switch --back` moves it back, with no client error, every acknowledged write present exactly
// once on the side that serves afterwards, sequences never reusing a value, and the side left
// behind fenced; a switch whose green stops replaying is undone within its timeout and loses
// nothing; a switch killed midway is finished or undone by the next run.
#include <gtest/gtest.h>

#include <chrono>
#include <nlohmann/json.hpp>
#include <thread>

#include "support/bluegreen_pair.hpp"
#include "support/routed_ledger.hpp"

namespace zerodown::testing {
namespace {

using namespace std::chrono_literals;

// pg_subscription is shared by the cluster's databases.
const std::string kSubscriptionsHere =
    "SELECT count(*) FROM pg_subscription s JOIN pg_database d ON d.oid = s.subdbid "
    "WHERE d.datname = current_database()";

// A pair whose switches move the routed ledger through its hooks.
struct PairFixture : BlueGreenPair {
  nlohmann::json Switch(const RoutedLedger& ledger, const std::string& extra, int* code,
                        std::string* out) {
    return BlueGreenPair::Switch(" --pause-command " + Quoted(ledger.PauseCommand()) +
                                     " --switch-command " + Quoted(ledger.SwitchCommand()) +
                                     " --resume-command " + Quoted(ledger.ResumeCommand()) + " " +
                                     extra,
                                 code, out);
  }
};

TEST(BlueGreenSwitch, SwitchAndBackUnderLoadLoseNoWrite) {
  PairFixture pair;
  ASSERT_NO_FATAL_FAILURE(pair.Create());
  RoutedLedger ledger(pair.blue, pair.green, 8,
                      "/tmp/zerodown-bluegreen-" + std::to_string(getpid()));
  std::this_thread::sleep_for(1s);
  int code = 0;
  std::string out;
  auto there = pair.Switch(ledger, "", &code, &out);
  ASSERT_EQ(code, 0) << out;
  ASSERT_TRUE(there.is_object() && there["switched"] == true) << out;
  std::int64_t pause_there = ledger.max_ms.exchange(0);
  std::this_thread::sleep_for(1s);
  EXPECT_GT(ledger.AcksOn(true), 0) << "writes continue on green";
  auto back = pair.Switch(ledger, "--back", &code, &out);
  ASSERT_EQ(code, 0) << out;
  ASSERT_TRUE(back.is_object() && back["switched"] == true) << out;
  std::int64_t pause_back = ledger.max_ms.exchange(0);
  std::this_thread::sleep_for(1s);
  ledger.Stop();
  EXPECT_EQ(ledger.failed, 0) << ledger.last_error();

  auto acks = ledger.acks();
  ExpectLedgerOnBothSides(pair, acks);
  // Green no longer serves: the fence refuses every session's writes.
  auto refused = Connect(pair.green).TryExec("INSERT INTO ledger (client, amount) VALUES (0, 0)");
  ASSERT_FALSE(refused.ok());
  EXPECT_EQ(refused.error().sqlstate(), "25006");
  ExpectShortWaits("bluegreen switch", acks.size(), ledger.AcksOn(true),
                   {pause_there, pause_back, there, back});
  ExpectFinishLeavesNothing(pair);
}

TEST(BlueGreenSwitch, GreenThatStopsReplayingIsUndoneWithinTheTimeout) {
  PairFixture pair;
  ASSERT_NO_FATAL_FAILURE(pair.Create());
  RoutedLedger ledger(pair.blue, pair.green, 4,
                      "/tmp/zerodown-bluegreen-stall-" + std::to_string(getpid()));
  std::this_thread::sleep_for(500ms);
  // The pause hook stops green's apply worker: the switch cannot see blue's last writes there.
  std::string subscription =
      Connect(pair.green)
          .Exec(
              "SELECT subname FROM pg_subscription WHERE subdbid = (SELECT oid FROM "
              "pg_database WHERE datname = current_database())")
          .Text(0, 0);
  std::string stall = SharedCluster().bindir() + "/psql \"" + pair.green +
                      "\" -qc \"ALTER SUBSCRIPTION " + subscription + " DISABLE\"";
  std::string out;
  auto began = std::chrono::steady_clock::now();
  int code = RunZerodown(
      BlueGreen("switch", pair.blue, pair.green) + " --step-timeout 2 --pause-command " +
          Quoted(ledger.PauseCommand() + "; " + stall) + " --resume-command " +
          Quoted(ledger.ResumeCommand()) + " --switch-command " + Quoted(ledger.SwitchCommand()),
      &out);
  double took = std::chrono::duration<double>(std::chrono::steady_clock::now() - began).count();
  EXPECT_EQ(code, ExitCode(ErrorKind::kMigrationFailed)) << out;
  EXPECT_NE(out.find("failed at step caught_up and was undone"), std::string::npos) << out;
  EXPECT_LT(took, 6.0) << out;
  // Blue serves again, unfenced, and takes the writes that follow.
  int before = ledger.AcksOn(false);
  std::this_thread::sleep_for(500ms);
  EXPECT_GT(ledger.AcksOn(false), before);
  EXPECT_EQ(ledger.AcksOn(true), 0);
  EXPECT_EQ(Count(pair.blue, "SELECT count(*) FROM pg_trigger WHERE tgname LIKE 'zerodown%'"), 0);
  EXPECT_EQ(Count(pair.blue, kSubscriptionsHere), 0);
  EXPECT_EQ(Count(pair.green,
                  "SELECT count(*) FROM pg_replication_slots WHERE database = current_database()"),
            0);
  ledger.Stop();
  EXPECT_EQ(ledger.failed, 0) << ledger.last_error();
  // Once green replays again, it has every acknowledged write.
  Connect(pair.green).Exec("ALTER SUBSCRIPTION " + subscription + " ENABLE");
  pair.WaitEqual("SELECT count(*) FROM ledger");
  ExpectEveryAck(pair.green, ledger.acks(), "green");
  ASSERT_EQ(RunZerodown(BlueGreen("abort", pair.blue, pair.green), &out), 0) << out;
  EXPECT_EQ(ReplicationLeftovers(pair.blue), 0);
  EXPECT_EQ(ReplicationLeftovers(pair.green), 0);
}

TEST(BlueGreenSwitch, KilledSwitchIsUndoneBeforeTrafficMovedAndFinishedAfter) {
  PairFixture pair;
  ASSERT_NO_FATAL_FAILURE(pair.Create());
  std::string out;
  std::string base = BlueGreen("switch", pair.blue, pair.green);
  // Killed in its pause hook: the rerun undoes it, blue keeps serving.
  EXPECT_NE(RunZerodown(base + " --pause-command 'kill -9 $PPID'", &out), 0) << out;
  ASSERT_EQ(RunZerodown(base, &out), 0) << out;
  EXPECT_NE(out.find("was undone"), std::string::npos) << out;
  Connect(pair.blue).Exec("INSERT INTO ledger (client, amount) VALUES (1, 1)");
  // Killed in its resume hook, after traffic moved: the rerun finishes it.
  EXPECT_NE(RunZerodown(base + " --resume-command 'kill -9 $PPID'", &out), 0) << out;
  ASSERT_EQ(RunZerodown(base, &out), 0) << out;
  EXPECT_NE(out.find("switched from blue to green"), std::string::npos) << out;
  EXPECT_FALSE(
      Connect(pair.blue).TryExec("INSERT INTO ledger (client, amount) VALUES (2, 2)").ok());
  Connect(pair.green).Exec("INSERT INTO ledger (client, amount) VALUES (3, 3)");
  // The old direction is gone; the way back is in place.
  EXPECT_EQ(Count(pair.blue,
                  "SELECT count(*) FROM pg_replication_slots WHERE database = current_database()"),
            0);
  EXPECT_EQ(Count(pair.blue, kSubscriptionsHere), 1);
  pair.WaitEqual("SELECT count(*) FROM ledger");
  EXPECT_EQ(Count(pair.blue, "SELECT count(*) FROM ledger WHERE client = 3"), 1);
  ASSERT_EQ(RunZerodown(BlueGreen("finish", pair.blue, pair.green), &out), 0) << out;
  EXPECT_EQ(ReplicationLeftovers(pair.blue), 0);
  EXPECT_EQ(ReplicationLeftovers(pair.green), 0);
}

}  // namespace
}  // namespace zerodown::testing
