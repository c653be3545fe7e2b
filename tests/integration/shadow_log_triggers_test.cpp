// The shadow copy's change log goes in under SHARE ROW EXCLUSIVE: while its triggers wait for the
// table's lock behind a writer's open transaction, the application's reads of the table go on.
// (A DROP TRIGGER IF EXISTS among them would queue ACCESS EXCLUSIVE, and every read behind it
// would wait too.)
#include <gtest/gtest.h>

#include <chrono>
#include <future>
#include <thread>

#include "support/database.hpp"
#include "support/migrations.hpp"
#include "zerodown/engine/engine.hpp"

namespace zerodown::engine {
namespace {

using Clock = std::chrono::steady_clock;
using std::chrono::milliseconds;

constexpr int kRows = 2000;

// The mode of the first lock on `table` someone waits for, or "" when nobody waits within 5 s.
std::string AwaitedLock(pg::Connection& watch, const std::string& table) {
  for (int i = 0; i < 100; ++i) {
    pg::Rows waiting = watch.Exec(
        "SELECT mode FROM pg_locks WHERE relation = to_regclass($1) AND NOT granted", {table});
    if (waiting.size() > 0) return waiting.Text(0, 0);
    std::this_thread::sleep_for(milliseconds(50));
  }
  return "";
}

TEST(ShadowLogTriggersTest, ReadsGoOnWhileTheTriggersWaitForTheTablesLock) {
  std::string db = testing::ZeroBalanceAccounts(kRows);
  pg::Connection conn = testing::Connect(db);
  EngineOptions options = testing::FastEngineOptions();
  options.mechanism = Mechanism::kShadow;
  // Long enough that the triggers are still queued while the reader runs.
  options.lock.lock_timeout = milliseconds(10000);
  SilentProgress progress;
  Engine engine(conn, options, progress);
  model::Migration migration = testing::ParseOperations(
      "balance_bigint",
      R"({"alter_column": {"table": "accounts", "column": "balance", "type": "bigint",
                           "up": "balance", "down": "balance::integer"}})");

  pg::Connection writer = testing::Connect(db);
  writer.Exec("BEGIN");
  writer.Exec("UPDATE accounts SET balance = balance + 1 WHERE id = 1");
  auto started = std::async(std::launch::async, [&] { return engine.Start(migration); });

  pg::Connection watch = testing::Connect(db);
  std::string mode = AwaitedLock(watch, "accounts");
  pg::Connection reader = testing::Connect(db);
  reader.Exec("SET statement_timeout = 2000");
  auto before = Clock::now();
  std::int64_t counted = -1;
  EXPECT_NO_THROW(counted = reader.Exec("SELECT count(*) FROM accounts").Int(0, 0))
      << "a read of the table waited behind the change log's triggers";
  auto read_ms = std::chrono::duration_cast<milliseconds>(Clock::now() - before).count();
  writer.Exec("COMMIT");
  MigrationRecord record = started.get();

  EXPECT_EQ(mode, "ShareRowExclusiveLock") << "the lock the copy waited for";
  EXPECT_EQ(counted, kRows);
  EXPECT_LT(read_ms, 1000);
  EXPECT_EQ(record.phase, MigrationPhase::kActive);
  EXPECT_EQ(conn.Exec("SELECT sum(balance) FROM accounts").Int(0, 0), 1)
      << "the writer's update is in the table the copy swapped in";
}

}  // namespace
}  // namespace zerodown::engine
