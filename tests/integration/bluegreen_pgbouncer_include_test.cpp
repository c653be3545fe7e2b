// Promise: when PgBouncer's [databases] section sits in a file its ini pulls in with `%include`,
// `zerodown bluegreen switch --pgbouncer` points the entry's line in that file at green (the ini
// itself untouched), PgBouncer's RELOAD takes it, and `switch --back` leaves both files byte for
// byte as they were, with no client error and every acknowledged write kept; an `%include` of a
// file that does not exist is refused, naming the including file and line, before anything
// changes.
#include <gtest/gtest.h>

#include <chrono>
#include <thread>

#include "support/bluegreen_pair.hpp"
#include "support/pgbouncer.hpp"
#include "support/pooled_ledger.hpp"

namespace zerodown::testing {
namespace {

using namespace std::chrono_literals;

struct IncludedPair : BlueGreenPair {
  PgBouncerProcess bouncer{"app", blue, PgBouncerProcess::Layout::kDatabasesIncluded};

  nlohmann::json Switch(const std::string& extra, int* code, std::string* out,
                        std::string ini = {}) const {
    if (ini.empty()) ini = bouncer.ini();
    return BlueGreenPair::Switch("--pgbouncer " + Quoted(bouncer.ConsoleUrl()) +
                                     " --pgbouncer-database app --pgbouncer-ini " + Quoted(ini) +
                                     " " + extra,
                                 code, out);
  }
};

TEST(BlueGreenPgBouncerInclude, SwitchAndBackEditTheIncludedFile) {
  IncludedPair pair;
  ASSERT_NO_FATAL_FAILURE(pair.Create());
  std::string blue_port = Port(pair.blue);
  std::string green_port = Port(pair.green);
  ASSERT_EQ(pair.bouncer.Shown()["port"], blue_port) << pair.bouncer.log();
  std::string ini_before = ReadFile(pair.bouncer.ini());
  std::string databases_before = ReadFile(pair.bouncer.databases_ini());
  ASSERT_EQ(ini_before.find("[databases]"), std::string::npos) << ini_before;
  PooledLedger ledger(pair.bouncer.ConnInfo(), 4);
  std::this_thread::sleep_for(500ms);
  int code = 0;
  std::string out;
  auto there = pair.Switch("", &code, &out);
  ASSERT_EQ(code, 0) << out << pair.bouncer.log();
  ASSERT_TRUE(there.is_object() && there["switched"] == true) << out;
  EXPECT_EQ(pair.bouncer.Shown()["port"], green_port);
  EXPECT_EQ(ReadFile(pair.bouncer.ini()), ini_before) << "the ini itself is not touched";
  EXPECT_NE(ReadFile(pair.bouncer.databases_ini()).find("port=" + green_port), std::string::npos);
  std::this_thread::sleep_for(1s);
  std::int64_t pause_there = ledger.TakeLongestMs();
  EXPECT_GT(ledger.AcksOn(green_port), 0) << "writes continue on green";

  auto back = pair.Switch("--back", &code, &out);
  ASSERT_EQ(code, 0) << out << pair.bouncer.log();
  EXPECT_EQ(pair.bouncer.Shown()["port"], blue_port);
  EXPECT_EQ(ReadFile(pair.bouncer.ini()), ini_before);
  EXPECT_EQ(ReadFile(pair.bouncer.databases_ini()), databases_before);
  std::this_thread::sleep_for(1s);
  std::int64_t pause_back = ledger.TakeLongestMs();
  ExpectLedgerKeptThroughSwitches(pair, ledger, "bluegreen switch --pgbouncer (%include)",
                                  green_port, {pause_there, pause_back, there, back});
}

TEST(BlueGreenPgBouncerInclude, AMissingIncludedFileIsRefusedBeforeAnythingChanges) {
  IncludedPair pair;
  ASSERT_NO_FATAL_FAILURE(pair.Create());
  std::string broken = pair.bouncer.dir() + "/broken.ini";
  std::ofstream(broken) << "[pgbouncer]\n%include " << pair.bouncer.dir() << "/nowhere.ini\n";
  std::string databases_before = ReadFile(pair.bouncer.databases_ini());
  int code = 0;
  std::string out;
  pair.Switch("", &code, &out, broken);
  EXPECT_EQ(code, ExitCode(ErrorKind::kNotFound)) << out;
  EXPECT_NE(out.find(broken + " at line 2 includes " + pair.bouncer.dir() + "/nowhere.ini"),
            std::string::npos)
      << out;
  EXPECT_NE(out.find("Nothing was changed"), std::string::npos) << out;
  EXPECT_EQ(ReadFile(pair.bouncer.databases_ini()), databases_before);
  EXPECT_EQ(pair.bouncer.Shown()["port"], Port(pair.blue));
  EXPECT_EQ(pair.bouncer.Shown()["paused"], "0");
  ASSERT_EQ(RunZerodown(BlueGreen("abort", pair.blue, pair.green), &out), 0) << out;
}

}  // namespace
}  // namespace zerodown::testing
