// Crash safety of a primary key's type change, phase by phase: the zerodown binary is killed
// (SIGKILL, as kill -9) in the copy, between two index builds, in the change log's catch-up,
// right after the swap, and in the rollback's catch-up and right after its swap back, all while
// clients write. Each time the same command run again finishes: 0 failed transactions, every
// account opened is there, balances sum as before, the foreign key is valid, and `verify` finds
// both heaps equal.
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <memory>
#include <thread>

#include "support/accounts.hpp"
#include "support/database.hpp"
#include "support/writers.hpp"
#include "zerodown/engine/engine.hpp"

namespace zerodown::engine {
namespace {

constexpr int kRows = 100000;
constexpr int kClients = 4;

struct CrashCase {
  std::string point;    // ZERODOWN_CRASH_AT
  std::string command;  // the command killed there: start or rollback
};

std::string MigrationFile() {
  auto path = std::filesystem::temp_directory_path() /
              ("zd_crash_" + std::to_string(getpid()) + "_accounts_id_bigint.sql");
  std::ofstream(path) << "ALTER TABLE accounts ALTER COLUMN id TYPE bigint;\n";
  return path.string();
}

std::string Phase(pg::Connection& conn) {
  return conn.Exec("SELECT phase FROM zerodown.migrations ORDER BY created_at DESC LIMIT 1")
      .Text(0, 0);
}

class KeyRetypeCrashTest : public ::testing::TestWithParam<CrashCase> {};

TEST_P(KeyRetypeCrashTest, KilledThenRunAgainFinishesWithEveryWrite) {
  const CrashCase& c = GetParam();
  std::string db = testing::SetUpAccounts(kRows);
  pg::Connection conn = testing::Connect(db);
  std::int64_t sum_before = conn.Exec("SELECT sum(balance) FROM accounts").Int(0, 0);
  std::string file = MigrationFile();
  std::string base = "--postgres-url '" + db + "' --lock-timeout 200 ";
  std::string crash = "ZERODOWN_CRASH_AT=" + c.point;

  testing::Bank bank(kRows);
  auto load = std::make_unique<testing::Writers>(db, kClients, std::ref(bank));
  std::string out;
  if (c.command == "rollback") {
    ASSERT_EQ(testing::RunZerodown(base + "start --chunk-time 20 " + file, &out), 0) << out;
    std::this_thread::sleep_for(std::chrono::milliseconds(300));
  }
  std::string command = c.command == "start" ? "start --chunk-time 20 " + file : "rollback";
  EXPECT_NE(testing::RunZerodown(base + command, &out, crash), 0)
      << "zerodown was not killed at " << c.point << ": " << out;
  // The application goes on while no zerodown runs; its writes are logged for the rerun.
  std::this_thread::sleep_for(std::chrono::milliseconds(300));
  EXPECT_EQ(Phase(conn), c.command == "start" ? "starting" : "rolling_back") << "killed half-way";
  ASSERT_EQ(testing::RunZerodown(base + command, &out), 0) << out;
  if (c.command == "start") {
    EXPECT_NE(out.find("resuming"), std::string::npos) << "the rerun resumes: " << out;
  }
  std::this_thread::sleep_for(std::chrono::milliseconds(200));
  load->Stop();

  EXPECT_EQ(load->failed, 0) << load->last_error();
  EXPECT_EQ(testing::KeyType(conn), c.command == "start" ? "bigint" : "integer");
  EXPECT_EQ(conn.Exec("SELECT count(*) FROM accounts").Int(0, 0), kRows + bank.opened)
      << "every account opened is there";
  EXPECT_EQ(conn.Exec("SELECT sum(balance) FROM accounts").Int(0, 0), sum_before);
  EXPECT_TRUE(testing::HistoryKeyValid(conn));
  if (c.command == "start") {
    SilentProgress progress;
    Engine engine(conn, {}, progress);
    auto status = engine.Status();
    ASSERT_TRUE(status.active);
    EXPECT_EQ(status.active->phase, zerodown::engine::MigrationPhase::kActive);
    testing::ExpectVerifyClean(conn, status.active->plan, kRows / 2);
  } else {
    EXPECT_TRUE(conn.Exec("SELECT to_regclass('public._zd_retired_accounts') IS NULL AND "
                          "to_regclass('public._zd_shadow_accounts') IS NULL")
                    .Bool(0, 0))
        << "the rollback removed both the new heap and the log";
  }
  std::filesystem::remove(file);
}

INSTANTIATE_TEST_SUITE_P(EveryPhase, KeyRetypeCrashTest,
                         ::testing::Values(CrashCase{"copy", "start"}, CrashCase{"index", "start"},
                                           CrashCase{"catchup", "start"},
                                           CrashCase{"swapped", "start"},
                                           CrashCase{"swap_back_catchup", "rollback"},
                                           CrashCase{"swapped_back", "rollback"}),
                         [](const ::testing::TestParamInfo<CrashCase>& info) {
                           return info.param.point;
                         });

}  // namespace
}  // namespace zerodown::engine
