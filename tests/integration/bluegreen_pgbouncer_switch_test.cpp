// Promise: `zerodown bluegreen switch --pgbouncer` moves 8 writing clients, connected through a
// real PgBouncer in transaction pooling, from blue to green (PAUSE, the entry's ini line pointed
// at green, RELOAD, RESUME) and `switch --back --pgbouncer` moves them back, with no client error,
// every acknowledged write present exactly once on the side that serves afterwards, sums equal,
// sequences never reusing a value, and the ini file byte for byte as it was once back on blue; a
// database entry PgBouncer lacks, or an ini file without its line, is refused before anything
// changes; a PAUSE that outlasts the step timeout is undone and the entry resumed.
#include <gtest/gtest.h>

#include <chrono>
#include <thread>

#include "support/bluegreen_pair.hpp"
#include "support/pgbouncer.hpp"
#include "support/pooled_ledger.hpp"

namespace zerodown::testing {
namespace {

using namespace std::chrono_literals;

struct BouncedPair : BlueGreenPair {
  PgBouncerProcess bouncer{"app", blue};

  nlohmann::json Switch(const std::string& extra, int* code, std::string* out,
                        const std::string& database = "app", std::string ini = {}) const {
    if (ini.empty()) ini = bouncer.ini();
    return BlueGreenPair::Switch("--pgbouncer " + Quoted(bouncer.ConsoleUrl()) +
                                     " --pgbouncer-database " + Quoted(database) +
                                     " --pgbouncer-ini " + Quoted(ini) + " " + extra,
                                 code, out);
  }
  std::string ShownPort() const { return bouncer.Shown()["port"]; }
};

TEST(BlueGreenPgBouncerSwitch, SwitchAndBackThroughPgBouncerLoseNoWrite) {
  BouncedPair pair;
  ASSERT_NO_FATAL_FAILURE(pair.Create());
  std::string blue_port = Port(pair.blue);
  std::string green_port = Port(pair.green);
  ASSERT_NE(blue_port, green_port);
  ASSERT_EQ(pair.ShownPort(), blue_port) << pair.bouncer.log();
  std::string ini_before = ReadFile(pair.bouncer.ini());
  PooledLedger ledger(pair.bouncer.ConnInfo(), 8);
  std::this_thread::sleep_for(1s);
  ASSERT_GT(ledger.AcksOn(blue_port), 0) << ledger.last_error() << pair.bouncer.log();
  int code = 0;
  std::string out;
  auto there = pair.Switch("", &code, &out);
  ASSERT_EQ(code, 0) << out << pair.bouncer.log();
  ASSERT_TRUE(there.is_object() && there["switched"] == true) << out;
  EXPECT_EQ(pair.ShownPort(), green_port);
  EXPECT_EQ(pair.bouncer.Shown()["paused"], "0");
  EXPECT_NE(ReadFile(pair.bouncer.ini()).find("port=" + green_port), std::string::npos);
  // Held inserts finish after the switch returns: the longest is taken once they surely did.
  std::this_thread::sleep_for(1s);
  std::int64_t pause_there = ledger.TakeLongestMs();
  int on_green = ledger.AcksOn(green_port);
  EXPECT_GT(on_green, 0) << "writes continue on green";

  auto back = pair.Switch("--back", &code, &out);
  ASSERT_EQ(code, 0) << out << pair.bouncer.log();
  ASSERT_TRUE(back.is_object() && back["switched"] == true) << out;
  EXPECT_EQ(pair.ShownPort(), blue_port);
  EXPECT_EQ(ReadFile(pair.bouncer.ini()), ini_before) << "the ini file is as it was";
  std::this_thread::sleep_for(1s);
  std::int64_t pause_back = ledger.TakeLongestMs();
  int blue_before_stop = ledger.AcksOn(blue_port);
  std::this_thread::sleep_for(300ms);
  EXPECT_GT(ledger.AcksOn(blue_port), blue_before_stop) << "writes continue on blue";
  ExpectLedgerKeptThroughSwitches(pair, ledger, "bluegreen switch --pgbouncer", green_port,
                                  {pause_there, pause_back, there, back});
}

// Prepare looks at the console, the entry and the ini file before the switch pauses anything:
// each mistake is named, and blue keeps serving, unfenced, with PgBouncer untouched.
TEST(BlueGreenPgBouncerSwitch, AWrongEntryOrIniIsRefusedBeforeAnythingChanges) {
  BouncedPair pair;
  ASSERT_NO_FATAL_FAILURE(pair.Create());
  std::string ini_before = ReadFile(pair.bouncer.ini());
  std::string other_ini = pair.bouncer.dir() + "/other.ini";
  std::ofstream(other_ini) << "[databases]\nshop = host=/nowhere dbname=shop\n";
  PooledLedger ledger(pair.bouncer.ConnInfo(), 4);
  std::this_thread::sleep_for(500ms);
  struct Case {
    std::string database;
    std::string ini;
    std::string says;
  };
  for (const Case& c : {Case{"nosuch", "", "has no database entry \"nosuch\""},
                        Case{"app", other_ini, "has no line for the entry \"app\""}}) {
    int code = 0;
    std::string out;
    pair.Switch("", &code, &out, c.database, c.ini);
    EXPECT_EQ(code, ExitCode(ErrorKind::kNotFound)) << out;
    EXPECT_NE(out.find(c.says), std::string::npos) << out;
    EXPECT_NE(out.find("Nothing was changed"), std::string::npos) << out;
  }
  EXPECT_EQ(ReadFile(pair.bouncer.ini()), ini_before);
  EXPECT_EQ(pair.ShownPort(), Port(pair.blue));
  EXPECT_EQ(pair.bouncer.Shown()["paused"], "0");
  std::string status_out;
  ASSERT_EQ(RunZerodown("--json " + BlueGreen("status", pair.blue, pair.green), &status_out), 0);
  auto status = nlohmann::json::parse(status_out.substr(0, status_out.find('\n')));
  EXPECT_EQ(status.value("serving", std::string()), "blue");
  EXPECT_EQ(status.value("phase", std::string()), "replicating");
  // Blue serves as before, unfenced, and takes the writes that follow.
  int before = static_cast<int>(ledger.acks().size());
  std::this_thread::sleep_for(500ms);
  EXPECT_GT(static_cast<int>(ledger.acks().size()), before);
  ledger.Stop();
  EXPECT_EQ(ledger.failed(), 0) << ledger.last_error();
  EXPECT_EQ(Count(pair.blue, "SELECT count(*) FROM pg_trigger WHERE tgname LIKE 'zerodown%'"), 0);
  std::string out;
  ASSERT_EQ(RunZerodown(BlueGreen("abort", pair.blue, pair.green), &out), 0) << out;
}

// PgBouncer's PAUSE returns once the entry's server connections are released: a statement that
// outlasts the step timeout keeps it waiting. The switch gives up, undoes what ran, and leaves the
// entry resumed (the waiting PAUSE's session closed first: a RESUME racing a waiting PAUSE would
// leave that PAUSE hanging, pgbouncer#715); the held clients go on on blue, none failing.
TEST(BlueGreenPgBouncerSwitch, APauseThatOutlastsTheTimeoutIsUndoneAndResumed) {
  BouncedPair pair;
  ASSERT_NO_FATAL_FAILURE(pair.Create());
  PooledLedger ledger(pair.bouncer.ConnInfo(), 4);
  std::this_thread::sleep_for(500ms);
  std::thread slow([&] { Connect(pair.bouncer.ConnInfo()).Exec("SELECT pg_sleep(4)"); });
  std::this_thread::sleep_for(300ms);
  int code = 0;
  std::string out;
  pair.Switch("--step-timeout 1", &code, &out);
  slow.join();
  EXPECT_EQ(code, ExitCode(ErrorKind::kMigrationFailed)) << out;
  EXPECT_NE(out.find("did not finish PAUSE \"app\" within 1000 ms"), std::string::npos) << out;
  EXPECT_NE(out.find("was undone"), std::string::npos) << out;
  EXPECT_EQ(pair.bouncer.Shown()["paused"], "0") << pair.bouncer.log();
  EXPECT_EQ(pair.ShownPort(), Port(pair.blue));
  int before = static_cast<int>(ledger.acks().size());
  std::this_thread::sleep_for(500ms);
  EXPECT_GT(static_cast<int>(ledger.acks().size()), before) << "clients resumed";
  ledger.Stop();
  EXPECT_EQ(ledger.failed(), 0) << ledger.last_error();
  EXPECT_EQ(Count(pair.blue, "SELECT count(*) FROM pg_trigger WHERE tgname LIKE 'zerodown%'"), 0);
  std::string status;
  ASSERT_EQ(RunZerodown(BlueGreen("abort", pair.blue, pair.green), &status), 0) << status;
}

TEST(BlueGreenPgBouncerSwitch, PgBouncerWithAProxyOrHooksIsRefused) {
  BouncedPair pair;
  ASSERT_NO_FATAL_FAILURE(pair.Create());
  for (std::string extra : {"--proxy 127.0.0.1:1", "--pause-command true"}) {
    int code = 0;
    std::string out;
    pair.Switch(extra, &code, &out);
    EXPECT_EQ(code, ExitCode(ErrorKind::kUsage)) << out;
    EXPECT_NE(out.find("more than one way to move traffic"), std::string::npos) << out;
  }
  EXPECT_EQ(pair.bouncer.Shown()["paused"], "0");
  std::string out;
  ASSERT_EQ(RunZerodown(BlueGreen("abort", pair.blue, pair.green), &out), 0) << out;
}

}  // namespace
}  // namespace zerodown::testing
