// The shadow copy's promises on a real server: `alter_column` int -> bigint moved into a new heap
// (INSERT … SELECT, indexes afterwards, change log replayed, short swap) while clients write
// loses no write and fails no transaction; the table keeps its indexes, constraints, foreign keys
// from and to it, views, triggers, grants, comment and sequence; both versions work afterwards;
// rollback after the swap keeps every write; a swap blocked by a long transaction never queues
// the application for longer than lock_timeout; a swap that would replay thousands of entries
// under its lock is not asked for; a catch-up the writes keep from emptying the log ends when the
// log stops getting shorter. The copy's other paths: shadow_copy_paths_test.cpp.
#include <fmt/format.h>
#include <gtest/gtest.h>

#include <algorithm>
#include <atomic>
#include <functional>
#include <future>
#include <thread>
#include <vector>

#include "support/catalog_checks.hpp"
#include "support/database.hpp"
#include "support/message_log.hpp"
#include "support/migrations.hpp"
#include "support/shadow_ledger.hpp"
#include "support/writers.hpp"
#include "zerodown/engine/engine.hpp"
#include "zerodown/engine/state.hpp"
#include "zerodown/pg/catalog.hpp"

namespace zerodown::engine {
namespace {

using testing::CopyCheckpoint;
using testing::ExpectDoneWithEveryTransfer;
using testing::HoldOpen;
using testing::kRows;
using testing::Migration;
using testing::Oid;
using testing::PlansACopy;
using testing::SetUpLedger;
using testing::ShadowOptions;
using testing::Transfer;

TEST(ShadowCopyTest, UnderLoadKeepsEveryWriteAndEverythingThatNamesTheTable) {
  std::string db = SetUpLedger();
  pg::Connection conn = testing::Connect(db);
  std::string oid_before = Oid(conn, "accounts");
  std::int64_t sum_before = conn.Exec("SELECT sum(balance) FROM accounts").Int(0, 0);
  std::string indexes_before =
      conn.Exec(
              "SELECT string_agg(indexname, ',' ORDER BY indexname) FROM pg_indexes WHERE "
              "tablename = 'accounts'")
          .Text(0, 0);

  testing::Writers load(db, 6, Transfer);
  std::this_thread::sleep_for(std::chrono::milliseconds(300));
  SilentProgress progress;
  Engine engine(conn, ShadowOptions(), progress);
  auto record = engine.Start(Migration());
  ASSERT_EQ(record.phase, zerodown::engine::MigrationPhase::kActive);
  ASSERT_TRUE(PlansACopy(record.plan)) << "--mechanism=shadow plans a copy";

  EXPECT_NE(Oid(conn, "accounts"), oid_before) << "the table is a new heap";
  EXPECT_TRUE(conn.Exec("SELECT to_regclass('public._zd_retired_accounts') IS NULL AND "
                        "to_regclass('public._zd_shadow_accounts') IS NULL AND NOT EXISTS (SELECT "
                        "1 FROM pg_tables WHERE schemaname = 'zerodown' AND tablename LIKE "
                        "'log_%')")
                  .Bool(0, 0))
      << "the old heap, the unfilled name and the change log are gone";
  EXPECT_EQ(conn.Exec("SELECT string_agg(indexname, ',' ORDER BY indexname) FROM pg_indexes "
                      "WHERE tablename = 'accounts'")
                .Text(0, 0),
            indexes_before);
  EXPECT_EQ(conn.Exec("SELECT count(*) FROM pg_constraint WHERE conrelid = 'accounts'::regclass "
                      "AND contype = 'p' AND conname = 'accounts_pkey'")
                .Int(0, 0),
            1);
  EXPECT_EQ(conn.Exec("SELECT count(*) FROM pg_constraint WHERE confrelid = 'accounts'::regclass "
                      "AND conrelid = 'history'::regclass AND convalidated")
                .Int(0, 0),
            1)
      << "history's foreign key points at the new heap and is validated";
  EXPECT_EQ(conn.Exec("SELECT count(*) FROM pg_constraint WHERE conrelid = 'accounts'::regclass "
                      "AND confrelid = 'branches'::regclass AND convalidated")
                .Int(0, 0),
            1);
  EXPECT_EQ(conn.Exec("SELECT count(*) FROM pg_trigger WHERE tgrelid = 'accounts'::regclass AND "
                      "tgname = 'remember'")
                .Int(0, 0),
            1);
  EXPECT_TRUE(conn.Exec("SELECT has_table_privilege('reader', 'accounts', 'SELECT')").Bool(0, 0));
  EXPECT_TRUE(conn.Exec("SELECT reloptions IS NULL FROM pg_class WHERE oid = 'accounts'::regclass")
                  .Bool(0, 0))
      << "autovacuum, off on the copy while it was filled, is the table's again";
  EXPECT_EQ(conn.Exec("SELECT obj_description('accounts'::regclass, 'pg_class')").Text(0, 0),
            "the ledger");
  EXPECT_EQ(conn.Exec("SELECT pg_get_serial_sequence('accounts', 'serial_no')").Text(0, 0),
            "public.accounts_serial_no_seq");
  EXPECT_EQ(conn.Exec("SELECT count(*) FROM pg_depend d JOIN pg_rewrite r ON r.oid = d.objid "
                      "WHERE r.ev_class = 'rich'::regclass AND d.refobjid = 'accounts'::regclass")
                    .Int(0, 0) > 0,
            true)
      << "the view reads the new heap";
  pg::Rows mismatched =
      conn.Exec("SELECT id FROM accounts WHERE _zd_new_balance IS DISTINCT FROM balance LIMIT 3");
  EXPECT_TRUE(mismatched.empty()) << "copy differs at id " << mismatched.Text(0, 0);
  nlohmann::json checkpoint = CopyCheckpoint(conn);
  EXPECT_EQ(checkpoint.value("stage", ""), "done");
  EXPECT_LT(checkpoint.value("swap_lock_ms", 1e9), 1000.0) << checkpoint.dump();
  // The swap's catalog reads were planned before its lock: each ran there and under it, on
  // one generic plan (the index list is read with custom plans before the copy's index build).
  pg::Rows plans = conn.Exec(
      "SELECT count(*), min(generic_plans) FROM pg_prepared_statements WHERE statement LIKE "
      "'%pg_get_viewdef%' OR statement LIKE '%pg_get_triggerdef%' OR statement LIKE "
      "'%aclexplode%' OR statement LIKE '%pg_get_indexdef%'");
  EXPECT_EQ(plans.Int(0, 0), 4);
  EXPECT_GE(plans.Int(0, 1), 2);
  EXPECT_GT(checkpoint.value("rows_checked", 0), kRows / 20)
      << "a sample of the copy was compared with the table under the writes, before the swap";

  // Both versions read and write the new heap and see each other.
  pg::Connection new_app = testing::Connect(db);
  new_app.Exec("SELECT set_config('search_path', $1, false)", {record.plan.version_schema});
  new_app.Exec("UPDATE accounts SET balance = 5000000000 - 4999999000 WHERE id = 3");
  EXPECT_EQ(conn.Exec("SELECT balance FROM public.accounts WHERE id = 3").Int(0, 0), 1000);
  conn.Exec("UPDATE public.accounts SET balance = 3 WHERE id = 3");
  EXPECT_EQ(new_app.Exec("SELECT balance FROM accounts WHERE id = 3").Int(0, 0), 3);
  new_app.Exec("INSERT INTO accounts (id, balance, branch) VALUES (900001, 2, 1)");
  conn.Exec("DELETE FROM public.accounts WHERE id = 900001");
  EXPECT_EQ(conn.Exec("SELECT count(*) FROM deleted WHERE id = 900001").Int(0, 0), 1)
      << "the user's trigger fires on the new heap";
  EXPECT_GT(conn.Exec("SELECT count(*) FROM rich").Int(0, 0), 0);
  EXPECT_EQ(conn.Exec("SELECT nextval('accounts_serial_no_seq') > $1", {std::to_string(kRows)})
                .Bool(0, 0),
            true);

  engine.Complete();
  std::this_thread::sleep_for(std::chrono::milliseconds(200));
  load.Stop();
  EXPECT_EQ(load.failed, 0) << load.last_error();
  EXPECT_GT(load.done, 50);
  auto table = pg::DescribeTable(conn, "public", "accounts");
  ASSERT_TRUE(table);
  EXPECT_EQ(table->FindColumn("balance")->type, "bigint");
  EXPECT_EQ(conn.Exec("SELECT sum(balance) FROM accounts").Int(0, 0), sum_before)
      << "every +1 was matched by a -1";
  EXPECT_EQ(conn.Exec("SELECT count(*) FROM history h LEFT JOIN accounts a ON a.id = h.account "
                      "WHERE a.id IS NULL")
                .Int(0, 0),
            0);
}

// The swap's transaction waits for its lock while the application commits; under a database
// default of REPEATABLE READ its snapshot, taken before the lock, missed the change-log entries
// of those commits, and their writes were lost. The engine's sessions are READ COMMITTED.
TEST(ShadowCopyTest, ADatabaseDefaultingToRepeatableReadLosesNoWriteAtTheSwap) {
  constexpr int kCounters = 20000;
  std::string db = testing::FreshDatabase();
  {
    pg::Connection admin = testing::Connect(db);
    admin.Run(fmt::format(
        "ALTER DATABASE {} SET default_transaction_isolation = 'repeatable read';"
        "CREATE TABLE counters (id int PRIMARY KEY, v bigint NOT NULL DEFAULT 0, pad text);"
        "INSERT INTO counters SELECT g, 0, repeat('x', 100) FROM generate_series(1, {}) g;",
        admin.Ident(admin.Exec("SELECT current_database()").Text(0, 0)), kCounters));
    State(admin).Init();
  }
  pg::Connection conn = testing::Connect(db);
  ASSERT_EQ(conn.Exec("SHOW default_transaction_isolation").Text(0, 0), "repeatable read");
  std::atomic<std::int64_t> committed{0};
  testing::Writers load(db, 8, [&](pg::Connection& c, int client, std::uint64_t n) {
    std::string id = std::to_string(1 + (client * 7919 + n * 104729) % kCounters);
    c.Exec("BEGIN ISOLATION LEVEL READ COMMITTED");
    c.Exec("UPDATE counters SET v = v + 1 WHERE id = $1", {id});
    // Held open a moment, so that some are in flight whenever the swap asks for its lock.
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
    c.Exec("COMMIT");
    ++committed;
  });
  std::this_thread::sleep_for(std::chrono::milliseconds(300));
  EngineOptions options = ShadowOptions();
  options.copy_sessions = 1;
  options.replay_sessions = 1;
  SilentProgress progress;
  Engine engine(conn, options, progress);
  engine.Start(testing::ParseOperations("m", R"({"rebuild_table": {"table": "counters"}})"));
  engine.Complete();
  std::this_thread::sleep_for(std::chrono::milliseconds(200));
  load.Stop();
  EXPECT_EQ(load.failed, 0) << load.last_error();
  EXPECT_GT(committed.load(), 100);
  EXPECT_EQ(conn.Exec("SELECT sum(v) FROM counters").Int(0, 0), committed.load())
      << "every committed increment is in the new heap";
}

TEST(ShadowCopyTest, RollbackAfterTheSwapKeepsEveryWrite) {
  std::string db = SetUpLedger();
  pg::Connection conn = testing::Connect(db);
  auto before = pg::DescribeTable(conn, "public", "accounts");
  SilentProgress progress;
  Engine engine(conn, ShadowOptions(), progress);
  auto record = engine.Start(Migration());
  pg::Connection new_app = testing::Connect(db);
  new_app.Exec("SELECT set_config('search_path', $1, false)", {record.plan.version_schema});
  new_app.Exec("UPDATE accounts SET balance = 999 WHERE id = 10");
  new_app.Exec("INSERT INTO accounts (id, balance, branch) VALUES (900000, 5, 1)");
  conn.Exec("UPDATE public.accounts SET balance = 77 WHERE id = 11");
  engine.Rollback();

  auto after = pg::DescribeTable(conn, "public", "accounts");
  ASSERT_TRUE(after);
  testing::ExpectSameColumns(*before, *after);
  if (HasFatalFailure()) return;
  EXPECT_EQ(conn.Exec("SELECT balance FROM accounts WHERE id = 10").Int(0, 0), 999);
  EXPECT_EQ(conn.Exec("SELECT balance FROM accounts WHERE id = 900000").Int(0, 0), 5);
  EXPECT_EQ(conn.Exec("SELECT balance FROM accounts WHERE id = 11").Int(0, 0), 77);
  EXPECT_EQ(conn.Exec("SELECT count(*) FROM accounts").Int(0, 0), kRows + 1);
  EXPECT_EQ(conn.Exec("SELECT count(*) FROM pg_class WHERE relname LIKE '\\_zd\\_%' AND "
                      "relpersistence <> 't'")
                .Int(0, 0),
            0)
      << "nothing of the copy is left";
}

TEST(ShadowCopyTest, SwapBlockedByALongTransactionNeverQueuesTheApplication) {
  std::string db = SetUpLedger();
  pg::Connection conn = testing::Connect(db);
  // A row the workload never writes, so only the swap waits for the holder.
  conn.Exec("INSERT INTO accounts (id, balance, branch) VALUES ($1, 0, 0)",
            {std::to_string(kRows + 5)});
  testing::Writers load(db, 4, Transfer);
  pg::Connection holder = testing::Connect(db);
  std::thread release;
  EngineOptions options = ShadowOptions();
  // Right before the swap, a transaction takes a row lock on accounts and keeps it for 1.5 s.
  options.before_cutover = [&] {
    release =
        HoldOpen(holder, fmt::format("UPDATE accounts SET note = 'held' WHERE id = {}", kRows + 5));
    load.max_ms = 0;
  };
  SilentProgress progress;
  Engine engine(conn, options, progress);
  engine.Start(Migration());
  if (release.joinable()) release.join();
  std::this_thread::sleep_for(std::chrono::milliseconds(200));
  load.Stop();
  EXPECT_EQ(load.failed, 0) << load.last_error();
  nlohmann::json checkpoint = CopyCheckpoint(conn);
  // Whether the swap timed out once or saw the holder first and waited depends on how long the
  // catch-up took; either way the application must not have queued behind it for long.
  EXPECT_EQ(checkpoint.value("stage", ""), "done");
  // lock_timeout is 200 ms; the slack covers a loaded 2-core machine.
  EXPECT_LT(load.max_ms.load(), 200 + 400)
      << "a client waited behind the swap for longer than lock_timeout";
}

// A transaction holding a row of the table keeps every slice's SHARE lock from being had, while
// the application keeps writing: the log is thousands of entries long right before each swap.
// The swap's lock is then not asked for, since it would replay them all while holding the
// table; after the last attempt start stops with a lock timeout and the copy kept, and once
// the transaction is gone, start run again finishes it.
TEST(ShadowCopyTest, ASwapThatWouldReplayThousandsUnderItsLockIsNotAskedFor) {
  std::string db = SetUpLedger();
  pg::Connection conn = testing::Connect(db);
  std::int64_t sum_before = conn.Exec("SELECT sum(balance) FROM accounts").Int(0, 0);
  conn.Exec("INSERT INTO accounts (id, balance, branch) VALUES ($1, 0, 0)",
            {std::to_string(kRows + 5)});
  testing::Writers load(db, 4, Transfer);
  pg::Connection holder = testing::Connect(db);
  EngineOptions options = ShadowOptions();
  options.lock.max_attempts = 2;
  options.swap_log_target = 0;  // slices before every swap, here all refused their lock
  options.before_cutover = [&] {
    holder.Exec("BEGIN");
    holder.Exec("UPDATE accounts SET note = 'held' WHERE id = $1", {std::to_string(kRows + 5)});
  };
  testing::MessageLog progress;
  try {
    Engine engine(conn, options, progress);
    engine.Start(Migration());
    ADD_FAILURE() << "the swap was made with every slice refused";
  } catch (const Error& error) {
    EXPECT_EQ(error.kind(), ErrorKind::kLockTimeout) << error.Describe();
    EXPECT_NE(error.message().find("after 2 attempts the change log still held 2000 or more"),
              std::string::npos)
        << error.Describe();
  }
  EXPECT_TRUE(progress.Has("not trying to swap accounts in yet")) << progress.All();
  EXPECT_TRUE(progress.Has("skipped for the lock")) << progress.All();
  EXPECT_FALSE(conn.Exec("SELECT to_regclass('public._zd_shadow_accounts') IS NULL").Bool(0, 0))
      << "the copy is kept for the next run";

  holder.Exec("COMMIT");
  options.before_cutover = nullptr;
  Engine again(conn, options, progress);
  EXPECT_EQ(again.Start(Migration()).phase, zerodown::engine::MigrationPhase::kActive);
  load.Stop();
  ExpectDoneWithEveryTransfer(conn, load, sum_before);
}

// Eight clients write all the while, so the log is never empty when counted: a catch-up told to
// replay it to below one entry would go on for as long as they write. It ends once the log stops
// getting shorter, and the swap's approach (rounds of one round trip, then slices that hold the
// writes) replays the rest.
TEST(ShadowCopyTest, ACatchUpEndsWhenTheLogStopsGettingShorter) {
  std::string db = SetUpLedger();
  pg::Connection conn = testing::Connect(db);
  std::int64_t sum_before = conn.Exec("SELECT sum(balance) FROM accounts").Int(0, 0);
  testing::Writers load(db, 8, Transfer);
  EngineOptions options = ShadowOptions();
  options.swap_when_log_below = 1;
  SilentProgress progress;
  std::future<std::string> phase = std::async(std::launch::async, [&] {
    Engine engine(conn, options, progress);
    return std::string(zerodown::engine::PhaseName(engine.Start(Migration()).phase));
  });
  bool finished_under_load = phase.wait_for(std::chrono::seconds(90)) == std::future_status::ready;
  load.Stop();
  EXPECT_TRUE(finished_under_load) << "the catch-up went on while the clients wrote";
  EXPECT_EQ(phase.get(), "active");
  ExpectDoneWithEveryTransfer(conn, load, sum_before);
}

TEST(ShadowCopyTest, SwapWaitsForAReportWithoutQueueingTheApplicationBehindIt) {
  std::string db = SetUpLedger();
  pg::Connection conn = testing::Connect(db);
  testing::Writers load(db, 4, Transfer);
  pg::Connection report = testing::Connect(db);
  std::thread release;
  EngineOptions options = ShadowOptions();
  // A report reads accounts in a transaction that stays open for 1.5 s from right before the
  // swap: a lock request would wait for it, and the application would queue behind the request.
  options.before_cutover = [&] {
    release = HoldOpen(report, "SELECT count(*) FROM accounts");
    std::this_thread::sleep_for(std::chrono::milliseconds(300));
    load.max_ms = 0;
  };
  SilentProgress progress;
  Engine engine(conn, options, progress);
  engine.Start(Migration());
  if (release.joinable()) release.join();
  load.Stop();
  EXPECT_EQ(load.failed, 0) << load.last_error();
  nlohmann::json checkpoint = CopyCheckpoint(conn);
  EXPECT_EQ(checkpoint.value("swap_attempts", 0), 1)
      << "no lock was requested while the report held the table";
  EXPECT_LT(load.max_ms.load(), 200 + 400) << "a client queued behind the swap";
}

}  // namespace
}  // namespace zerodown::engine
