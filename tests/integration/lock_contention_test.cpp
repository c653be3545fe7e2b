// The lock promise: while a long transaction holds ACCESS SHARE on the table, zerodown's DDL
// waits for its ACCESS EXCLUSIVE lock at most lock_timeout at a time, so the application's
// statements that queue behind it are never held longer than that; zerodown keeps retrying and
// finishes once the holder commits. Checked for both start and complete.
#include <gtest/gtest.h>

#include <atomic>
#include <thread>

#include "support/database.hpp"
#include "support/migrations.hpp"
#include "zerodown/engine/engine.hpp"
#include "zerodown/model/migration_reader.hpp"
#include "zerodown/pg/catalog.hpp"

namespace zerodown::engine {
namespace {

using Clock = std::chrono::steady_clock;
using std::chrono::milliseconds;

constexpr milliseconds kLockTimeout{100};
constexpr milliseconds kSlack{150};
constexpr milliseconds kHold{2000};
constexpr int kRows = 20000;

// Single-row updates through the old version every few milliseconds; records the slowest.
struct Application {
  explicit Application(const std::string& db) {
    thread = std::thread([this, db] {
      pg::Connection conn = testing::Connect(db);
      std::uint64_t n = 0;
      while (!stop) {
        std::string id = std::to_string(1 + (n++ * 7919) % kRows);
        auto begin = Clock::now();
        try {
          conn.Exec("UPDATE accounts SET balance = balance + 1 WHERE id = $1", {id});
          ++done;
        } catch (const Error& e) {
          ++failed;
          last_error = e.Describe();
        }
        auto took = std::chrono::duration_cast<milliseconds>(Clock::now() - begin).count();
        if (took > max_ms) max_ms = took;
        std::this_thread::sleep_for(milliseconds(3));
      }
    });
  }
  ~Application() { Stop(); }
  void Stop() {
    stop = true;
    if (thread.joinable()) thread.join();
  }
  std::atomic<bool> stop{false};
  std::atomic<int> done{0};
  std::atomic<int> failed{0};
  std::atomic<std::int64_t> max_ms{0};
  std::string last_error;
  std::thread thread;
};

// A reporting query that keeps ACCESS SHARE on the table for `hold`, then commits; `committed`
// is when it did.
struct Holder {
  Holder(const std::string& db, milliseconds hold) {
    pg::Connection conn = testing::Connect(db);
    conn.Exec("BEGIN");
    conn.Exec("SELECT count(*) FROM accounts");
    thread = std::thread([this, c = std::move(conn), hold]() mutable {
      std::this_thread::sleep_for(hold);
      c.Exec("COMMIT");
      committed = Clock::now();
    });
  }
  ~Holder() {
    if (thread.joinable()) thread.join();
  }
  Clock::time_point Join() {
    thread.join();
    return committed;
  }
  std::thread thread;
  Clock::time_point committed;
};

TEST(LockContentionTest, StartAndCompleteNeverQueueTheApplicationLongerThanLockTimeout) {
  std::string db = testing::ZeroBalanceAccounts(kRows);
  pg::Connection conn = testing::Connect(db);
  EngineOptions options;
  options.lock.lock_timeout = kLockTimeout;
  options.backfill.chunk_time = milliseconds(20);
  SilentProgress progress;
  Engine engine(conn, options, progress);
  auto migration =
      model::ParseMigration(R"({"name": "balance_bigint", "operations": [{"alter_column": {
          "table": "accounts", "column": "balance", "type": "bigint", "up": "balance",
          "down": "balance::integer"}}]})",
                            model::Format::kJson, "balance_bigint.json")
          .ValueOrThrow();

  Application app(db);
  std::this_thread::sleep_for(milliseconds(100));
  {
    Holder holder(db, kHold);
    auto record = engine.Start(migration);
    auto finished = Clock::now();
    EXPECT_EQ(record.phase, zerodown::engine::MigrationPhase::kActive);
    EXPECT_GE(finished, holder.Join()) << "start cannot add its column before the holder ends";
  }
  int during_start = app.done;
  {
    Holder holder(db, kHold);
    auto record = engine.Complete();
    auto finished = Clock::now();
    EXPECT_EQ(record.phase, zerodown::engine::MigrationPhase::kComplete);
    EXPECT_GE(finished, holder.Join()) << "complete cannot swap the columns before the holder ends";
  }
  std::this_thread::sleep_for(milliseconds(100));
  app.Stop();

  EXPECT_EQ(app.failed, 0) << app.last_error;
  // About 2 x 2 s of holding at one update per ~3 ms: hundreds of updates got through while
  // zerodown waited, not just before and after.
  EXPECT_GT(during_start, 200);
  EXPECT_GT(app.done - during_start, 200);
  EXPECT_LE(app.max_ms, (kLockTimeout + kSlack).count())
      << "an application statement queued behind zerodown's DDL for longer than lock_timeout";
  auto table = pg::DescribeTable(conn, "public", "accounts");
  ASSERT_TRUE(table);
  EXPECT_EQ(table->FindColumn("balance")->type, "bigint");
  EXPECT_EQ(conn.Exec("SELECT sum(balance) FROM accounts").Int(0, 0), app.done.load())
      << "every update landed exactly once";
}

}  // namespace
}  // namespace zerodown::engine
