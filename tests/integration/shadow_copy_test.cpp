// The shadow copy's promises on a real server: `alter_column` int -> bigint moved into a new heap
// (INSERT … SELECT, indexes afterwards, change log replayed, short swap) while clients write
// loses no write and fails no transaction; the table keeps its indexes, constraints, foreign keys
// from and to it, views, triggers, grants, comment and sequence; both versions work afterwards;
// rollback after the swap keeps every write; a swap blocked by a long transaction never queues
// the application for longer than lock_timeout; a copy interrupted half-way resumes; unique
// values that move between rows during the change never stop it; a server that refuses the
// catch-up a second connection gets it done on one; the writes of an application role that owns
// nothing, a TRUNCATE and writes under session_replication_role = replica all reach the other
// heap; a swap that would replay thousands of entries under its lock is not asked for; a
// catch-up the writes keep from emptying the log ends when the log stops getting shorter.
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
#include "support/writers.hpp"
#include "zerodown/engine/engine.hpp"
#include "zerodown/engine/state.hpp"
#include "zerodown/pg/catalog.hpp"

namespace zerodown::engine {
namespace {

// Whether start copies the table (read-only data checks may come first).
bool PlansACopy(const Plan& plan) {
  return std::any_of(plan.start.begin(), plan.start.end(),
                     [](const Action& a) { return a.kind == ActionKind::kShadowCopy; });
}

constexpr int kRows = 60000;

model::Migration Migration() {
  return testing::ParseOperations(
      "balance_bigint",
      R"({"alter_column": {"table": "accounts", "column": "balance", "type": "bigint",
                           "up": "balance", "down": "balance::integer"}})");
}

EngineOptions ShadowOptions() {
  EngineOptions options = testing::FastEngineOptions();
  options.mechanism = Mechanism::kShadow;
  return options;
}

// accounts with everything a swap must carry over: a primary key, a secondary index, a check, a
// serial's sequence, a foreign key out (to branches) and in (from history), a view, a user
// trigger, a grant and a comment.
std::string SetUpLedger() {
  std::string db = testing::FreshDatabase();
  pg::Connection conn = testing::Connect(db);
  conn.Run(fmt::format(
      "DO $$ BEGIN IF NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 'reader') THEN CREATE "
      "ROLE reader; END IF; END $$;"
      "CREATE TABLE branches (id int PRIMARY KEY);"
      "INSERT INTO branches SELECT generate_series(0, 9);"
      "CREATE TABLE accounts (id int PRIMARY KEY, balance int NOT NULL, branch int NOT NULL "
      "CHECK (branch >= 0) REFERENCES branches, serial_no serial, note text DEFAULT 'x');"
      "CREATE INDEX accounts_branch ON accounts (branch);"
      "INSERT INTO accounts (id, balance, branch) SELECT g, g % 1000, g % 10 FROM "
      "generate_series(1, {}) g;"
      "CREATE TABLE history (id bigserial PRIMARY KEY, account int NOT NULL REFERENCES accounts, "
      "delta int);"
      "CREATE TABLE deleted (id int);"
      "CREATE FUNCTION remember_delete() RETURNS trigger LANGUAGE plpgsql AS $f$ BEGIN INSERT "
      "INTO deleted VALUES (OLD.id); RETURN OLD; END $f$;"
      "CREATE TRIGGER remember AFTER DELETE ON accounts FOR EACH ROW EXECUTE FUNCTION "
      "remember_delete();"
      "CREATE VIEW rich AS SELECT id, branch FROM accounts WHERE branch > 5;"
      "GRANT SELECT ON accounts TO reader;"
      "COMMENT ON TABLE accounts IS 'the ledger';"
      "ANALYZE accounts;",
      kRows));
  State(conn).Init();
  return db;
}

// Writers through the old version (public): +1 then -1 on an account and a history row that
// references it, so sums end where they began and the foreign key is exercised at the swap.
void Transfer(pg::Connection& conn, int client, std::uint64_t n) {
  std::string id = std::to_string(1 + (client * 7919 + n * 104729) % kRows);
  conn.Exec("BEGIN");
  conn.Exec("UPDATE accounts SET balance = balance + 1 WHERE id = $1", {id});
  conn.Exec("INSERT INTO history (account, delta) VALUES ($1, 1)", {id});
  conn.Exec("UPDATE accounts SET balance = balance - 1 WHERE id = $1", {id});
  conn.Exec("COMMIT");
}

std::string Oid(pg::Connection& conn, const std::string& table) {
  return conn.Exec("SELECT $1::regclass::oid::text", {table}).Text(0, 0);
}

nlohmann::json CopyCheckpoint(pg::Connection& conn) {
  pg::Rows rows = conn.Exec(
      "SELECT checkpoint FROM zerodown.steps WHERE action LIKE '%shadow_copy' AND phase = "
      "'start'");
  return rows.empty() ? nlohmann::json() : nlohmann::json::parse(rows.Text(0, 0));
}

// After a start under Transfer writers, once `load` has stopped: no write failed, the copy is
// done and the transfers' sums are where they began.
void ExpectDoneWithEveryTransfer(pg::Connection& conn, testing::Writers& load,
                                 std::int64_t sum_before) {
  EXPECT_EQ(load.failed, 0) << load.last_error();
  EXPECT_EQ(CopyCheckpoint(conn).value("stage", ""), "done");
  EXPECT_EQ(conn.Exec("SELECT sum(balance) FROM accounts").Int(0, 0), sum_before);
}

// Runs `sql` in a transaction on `conn` that a thread of its own commits 1.5 s later: a session
// holding the table's lock across the swap. Join the thread before `conn` goes.
std::thread HoldOpen(pg::Connection& conn, const std::string& sql) {
  conn.Exec("BEGIN");
  conn.Exec(sql);
  return std::thread([&conn] {
    std::this_thread::sleep_for(std::chrono::milliseconds(1500));
    conn.Exec("COMMIT");
  });
}

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

// Migration() by shadow copy of `db`'s accounts while 4 clients write: each third write an
// insert (`insert(c, step)`, which returns how many rows it added), the others `update(c,
// step)`, with step counting every client's writes. Checks that no write failed, that every row
// is there and that each copy equals its original; returns the copy's checkpoint.
nlohmann::json CopyUnderInsertsAndUpdates(
    const std::string& db, pg::Connection& conn,
    const std::function<int(pg::Connection&, std::int64_t)>& insert,
    const std::function<void(pg::Connection&, std::int64_t)>& update) {
  State(conn).Init();
  std::int64_t rows_before = conn.Exec("SELECT count(*) FROM accounts").Int(0, 0);
  std::atomic<std::int64_t> inserted{0};
  testing::Writers load(db, 4, [&](pg::Connection& c, int client, std::uint64_t n) {
    std::int64_t step = static_cast<std::int64_t>(n) * 4 + client;
    if (n % 3 == 0) {
      inserted += insert(c, step);
    } else {
      update(c, step);
    }
  });
  std::this_thread::sleep_for(std::chrono::milliseconds(200));
  SilentProgress progress;
  EngineOptions options = ShadowOptions();
  options.copy_sessions = 2;
  Engine engine(conn, options, progress);
  engine.Start(Migration());
  load.Stop();
  EXPECT_EQ(load.failed, 0) << load.last_error();
  EXPECT_EQ(conn.Exec("SELECT count(*) FROM accounts").Int(0, 0), rows_before + inserted.load());
  EXPECT_EQ(conn.Exec("SELECT count(*) FROM accounts WHERE _zd_new_balance IS DISTINCT FROM "
                      "balance")
                .Int(0, 0),
            0);
  return CopyCheckpoint(conn);
}

TEST(ShadowCopyTest, TheCopysLanesCoverNegativeSparseAndEdgeKeys) {
  std::string db = testing::FreshDatabase();
  pg::Connection conn = testing::Connect(db);
  // Negative keys, a sparse run and one far outlier: the lanes split the key range, not the rows,
  // so the first lane holds almost every row. The keys from -60000 to 10^12 split in two at
  // -60000 + (10^12 + 60000) / 2 = 499999970000: rows sit on both sides of that edge and at
  // both ends, none of them written during the copy, so only the copy itself can bring them.
  conn.Run(
      "CREATE TABLE accounts (id bigint PRIMARY KEY, balance int NOT NULL);"
      "INSERT INTO accounts SELECT g, 1 FROM generate_series(-60000, -1) g;"
      "INSERT INTO accounts SELECT g, 1 FROM generate_series(1, 420000, 7) g;"
      "INSERT INTO accounts VALUES (499999970000, 1), (499999970001, 1), (1000000000000, 1);"
      "ANALYZE accounts;");
  // New keys in the gaps of the sparse run, and updates of existing ones.
  nlohmann::json checkpoint = CopyUnderInsertsAndUpdates(
      db, conn,
      [](pg::Connection& c, std::int64_t step) {
        c.Exec("INSERT INTO accounts VALUES ($1, 1)", {std::to_string(3 + 7 * step)});
        return 1;
      },
      [](pg::Connection& c, std::int64_t step) {
        c.Exec("UPDATE accounts SET balance = balance + 1 WHERE id = $1",
               {std::to_string(1 + 7 * (step % 60000))});
      });
  ASSERT_EQ(checkpoint["lanes"].size(), 2U) << checkpoint.dump();
  EXPECT_EQ(checkpoint["lanes"][0].value("end", std::int64_t{0}), 499999970000) << "the edge";
  EXPECT_EQ(conn.Exec("SELECT count(*) FROM accounts WHERE id IN (-60000, 499999970000, "
                      "499999970001, 1000000000000)")
                .Int(0, 0),
            4);
}

TEST(ShadowCopyTest, KeysAtBothEndsOfTheirTypeAndFarApartAreAllCopiedInFewRanges) {
  std::string db = testing::FreshDatabase();
  pg::Connection conn = testing::Connect(db);
  // The smallest and largest bigint, a dense run, and time-based ids (as Snowflake's) spread
  // over 10^17 keys: there is no key below the smallest to start the first range from, and
  // ranges of a dense key's width would walk the gaps in billions of steps. A second table's
  // integer key starts at the smallest integer.
  conn.Run(
      "CREATE TABLE accounts (id bigint PRIMARY KEY, balance int NOT NULL);"
      "INSERT INTO accounts VALUES (-9223372036854775808, 1), (-9223372036854775807, 1), "
      "(9223372036854775807, 1);"
      "INSERT INTO accounts SELECT g, 1 FROM generate_series(1, 20000) g;"
      "INSERT INTO accounts SELECT 1400000000000000000 + g * 5000000000000, 1 "
      "FROM generate_series(1, 20000) g;"
      "CREATE TABLE tellers (id int PRIMARY KEY, balance int NOT NULL);"
      "INSERT INTO tellers VALUES (-2147483648, 1), (2147483647, 1);"
      "INSERT INTO tellers SELECT g, 1 FROM generate_series(1, 1000) g;"
      "ANALYZE accounts; ANALYZE tellers;");
  nlohmann::json checkpoint = CopyUnderInsertsAndUpdates(
      db, conn,
      [](pg::Connection& c, std::int64_t step) {
        // In the gaps: just above the smallest key, and between the time-based ids.
        c.Exec("INSERT INTO accounts VALUES ($1, 1), ($2, 1)",
               {std::to_string(-9223372036854775806 + step),
                std::to_string(1400000000000000001 + 5000000000000 * step)});
        return 2;
      },
      [](pg::Connection& c, std::int64_t step) {
        c.Exec("UPDATE accounts SET balance = balance + 1 WHERE id IN ($1, $2, $3)",
               {"-9223372036854775808", "9223372036854775807", std::to_string(1 + step % 20000)});
      });
  EXPECT_EQ(conn.Exec("SELECT count(*) FROM accounts WHERE id IN (-9223372036854775808, "
                      "-9223372036854775807, 9223372036854775807)")
                .Int(0, 0),
            3);
  EXPECT_LT(checkpoint.value("copy_chunks", 0), 2000) << checkpoint.dump();

  SilentProgress progress;
  Engine engine(conn, ShadowOptions(), progress);
  engine.Complete();
  engine.Start(testing::ParseOperations(
      "teller_balance_bigint",
      R"({"alter_column": {"table": "tellers", "column": "balance", "type": "bigint",
                           "up": "balance", "down": "balance::integer"}})"));
  EXPECT_EQ(
      conn.Exec("SELECT count(*) FROM tellers WHERE id IN (-2147483648, 2147483647)").Int(0, 0), 2);
}

TEST(ShadowCopyTest, AnInterruptedCopyResumesWhereItStopped) {
  std::string db = SetUpLedger();
  pg::Connection conn = testing::Connect(db);
  EngineOptions options = ShadowOptions();
  int batches = 0;
  // Two sessions copy: each asks before its chunk, so by the third ask one has saved a chunk.
  options.backfill.before_batch = [&] {
    if (++batches == 3) throw Error(ErrorKind::kConnection, "simulated crash");
  };
  SilentProgress progress;
  {
    Engine engine(conn, options, progress);
    EXPECT_THROW(engine.Start(Migration()), Error);
  }
  nlohmann::json stopped = CopyCheckpoint(conn);
  ASSERT_EQ(stopped.value("stage", ""), "copy") << stopped.dump();
  ASSERT_EQ(stopped["lanes"].size(), 2U) << "one range of keys per copy session";
  std::int64_t copied = stopped.value("rows_done", std::int64_t{0});
  EXPECT_GT(copied, 0);
  EXPECT_LT(copied, kRows);
  conn.Exec("UPDATE accounts SET balance = 123 WHERE id = $1", {std::to_string(kRows)});

  options.backfill.before_batch = nullptr;
  Engine again(conn, options, progress);
  auto record = again.Start(Migration());
  EXPECT_EQ(record.phase, zerodown::engine::MigrationPhase::kActive);
  EXPECT_EQ(conn.Exec("SELECT count(*) FROM accounts").Int(0, 0), kRows);
  EXPECT_EQ(conn.Exec("SELECT count(*) FROM accounts WHERE _zd_new_balance IS DISTINCT FROM "
                      "balance")
                .Int(0, 0),
            0);
  EXPECT_EQ(conn.Exec("SELECT _zd_new_balance FROM accounts WHERE id = $1", {std::to_string(kRows)})
                .Int(0, 0),
            123);
}

TEST(ShadowCopyTest, ACopyThatDiffersFromTheTableIsNeverSwappedIn) {
  std::string db = SetUpLedger();
  pg::Connection conn = testing::Connect(db);
  std::string oid_before = Oid(conn, "accounts");
  // Writes the change log cannot see, made once the copy is built: the table's triggers off.
  pg::Connection sneaky = testing::Connect(db);
  bool written = false;
  EngineOptions options = ShadowOptions();
  options.backfill.before_batch = [&] {
    if (written || !sneaky
                        .Exec("SELECT EXISTS (SELECT 1 FROM pg_indexes WHERE tablename = "
                              "'_zd_shadow_accounts')")
                        .Bool(0, 0)) {
      return;
    }
    sneaky.Run(
        "BEGIN; ALTER TABLE accounts DISABLE TRIGGER USER; UPDATE accounts SET note = "
        "'unlogged' WHERE id % 10 = 0; ALTER TABLE accounts ENABLE TRIGGER USER; COMMIT");
    written = true;
  };
  SilentProgress progress;
  Engine engine(conn, options, progress);
  try {
    engine.Start(Migration());
    ADD_FAILURE() << "a copy that differs was swapped in";
  } catch (const Error& e) {
    EXPECT_EQ(e.kind(), ErrorKind::kMigrationFailed) << e.Describe();
    EXPECT_NE(e.Describe().find("differs from the table"), std::string::npos) << e.Describe();
    EXPECT_NE(e.Describe().find("DISABLE TRIGGER"), std::string::npos) << e.Describe();
  }
  EXPECT_TRUE(written) << "the hook ran during the catch-up";
  EXPECT_EQ(Oid(conn, "accounts"), oid_before) << "the table was not swapped";
  EXPECT_TRUE(conn.Exec("SELECT to_regclass('public._zd_shadow_accounts') IS NULL").Bool(0, 0))
      << "the failed start removed the copy";
}

// The application's own role, which owns nothing and has no privilege on zerodown's schema,
// writes through the copy, the swap and the time until complete: the change logs' triggers run
// as their owner.
TEST(ShadowCopyTest, AnApplicationRoleThatOwnsNothingWritesThroughTheCopyAndTheSwap) {
  std::string db = SetUpLedger();
  pg::Connection conn = testing::Connect(db);
  conn.Run(
      "DO $$ BEGIN IF NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 'app') THEN CREATE ROLE "
      "app LOGIN; END IF; END $$;"
      "GRANT SELECT, INSERT, UPDATE, DELETE ON accounts, history TO app;"
      "GRANT USAGE ON SEQUENCE history_id_seq TO app;");
  std::int64_t sum_before = conn.Exec("SELECT sum(balance) FROM accounts").Int(0, 0);
  testing::Writers load(db + " user=app", 4, Transfer);
  std::this_thread::sleep_for(std::chrono::milliseconds(300));
  SilentProgress progress;
  Engine engine(conn, ShadowOptions(), progress);
  engine.Start(Migration());
  int done_at_swap = load.done;
  // Writes between the swap and complete go through the reverse log's trigger.
  while (load.done < done_at_swap + 20 && load.failed == 0) {
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  engine.Complete();
  load.Stop();
  EXPECT_EQ(load.failed, 0) << load.last_error();
  EXPECT_EQ(conn.Exec("SELECT sum(balance) FROM accounts").Int(0, 0), sum_before)
      << "every +1 was matched by a -1";
}

// A TRUNCATE of the table while it is copied, and writes made under session_replication_role =
// replica (as a logical replication subscriber makes them), reach the new heap: no row the
// table lost comes back and none it gained is missing. A TRUNCATE after the swap reaches the
// old heap, which a rollback brings back.
TEST(ShadowCopyTest, ATruncateAndReplicaWritesReachTheOtherHeapBothWays) {
  std::string db = testing::FreshDatabase();
  pg::Connection conn = testing::Connect(db);
  conn.Run(
      fmt::format("CREATE TABLE events (id int PRIMARY KEY, v int NOT NULL);"
                  "INSERT INTO events SELECT g, g FROM generate_series(1, {}) g; ANALYZE events;",
                  kRows));
  State(conn).Init();
  pg::Connection app = testing::Connect(db);
  EngineOptions options = ShadowOptions();
  // The application writes from threads of its own: its TRUNCATE waits for the chunk a copy
  // session has open, as another process's would.
  int batches = 0;
  std::future<void> truncated;
  std::future<void> replicated;
  options.backfill.before_batch = [&] {
    ++batches;
    if (batches == 2) {
      truncated = std::async(std::launch::async, [&] {
        app.Run("TRUNCATE events; INSERT INTO events SELECT g, 7 FROM generate_series(1, 500) g");
      });
    } else if (batches > 2 && truncated.valid() && !replicated.valid() &&
               truncated.wait_for(std::chrono::seconds(0)) == std::future_status::ready) {
      replicated = std::async(std::launch::async, [&] {
        app.Run(
            "SET session_replication_role = replica; UPDATE events SET v = 8 WHERE id <= 100; "
            "INSERT INTO events VALUES (900000, 8); RESET session_replication_role");
      });
    }
  };
  SilentProgress progress;
  Engine engine(conn, options, progress);
  auto record = engine.Start(testing::ParseOperations(
      "v_bigint", R"({"alter_column": {"table": "events", "column": "v", "type": "bigint",
                                      "up": "v", "down": "v::integer"}})"));
  ASSERT_TRUE(PlansACopy(record.plan));
  ASSERT_TRUE(truncated.valid() && replicated.valid()) << "both writes began before the swap";
  truncated.get();
  replicated.get();
  pg::Rows counts = conn.Exec(
      "SELECT count(*), count(*) FILTER (WHERE _zd_new_v = 7), count(*) FILTER (WHERE _zd_new_v "
      "= 8) FROM events");
  EXPECT_EQ(counts.Int(0, 0), 501);
  EXPECT_EQ(counts.Int(0, 1), 400);
  EXPECT_EQ(counts.Int(0, 2), 101);

  app.Run("TRUNCATE events; INSERT INTO events (id, v) VALUES (1, 1), (2, 2)");
  engine.Rollback();
  EXPECT_EQ(conn.Exec("SELECT string_agg(id || ':' || v, ',' ORDER BY id) FROM events").Text(0, 0),
            "1:1,2:2")
      << "the old heap, swapped back, was truncated with the new one";
}

// `codes` holds a permutation of 1..kCodes in a unique column; each client owns the ids equal
// to its number modulo kClients and swaps the codes of two of them per transaction (through a
// negative value, as the unique index checks every row at once). The copy, read over many
// snapshots, and a replay of part of the log both see a code on two rows unless they keep
// every row of one moment: the unique index's build or the replay's insert would fail.
constexpr int kCodes = 40000;
constexpr int kSwappers = 4;

class CodeSwaps {
 public:
  CodeSwaps() : expected_(kCodes + 1) {
    for (int id = 1; id <= kCodes; ++id) expected_[id] = id;
  }
  void operator()(pg::Connection& conn, int client, std::uint64_t n) {
    int a = Owned(client, n * 2);
    int b = Owned(client, n * 2 + 1);
    if (a == b) return;
    int code_a = expected_[a];
    int code_b = expected_[b];
    conn.Exec("BEGIN");
    conn.Exec("UPDATE codes SET code = -code, hits = hits + 1 WHERE id = $1", {std::to_string(a)});
    conn.Exec("UPDATE codes SET code = $2, hits = hits + 1 WHERE id = $1",
              {std::to_string(b), std::to_string(code_a)});
    conn.Exec("UPDATE codes SET code = $2 WHERE id = $1",
              {std::to_string(a), std::to_string(code_b)});
    conn.Exec("COMMIT");
    expected_[a] = code_b;
    expected_[b] = code_a;
  }
  // Rows whose code is not the one their client last committed.
  int Mismatches(pg::Connection& conn) const {
    pg::Rows rows = conn.Exec("SELECT id, code FROM codes ORDER BY id");
    int wrong = kCodes - rows.size();
    for (int r = 0; r < rows.size(); ++r) {
      if (rows.Int(r, 1) != expected_[rows.Int(r, 0)]) ++wrong;
    }
    return wrong;
  }

 private:
  static int Owned(int client, std::uint64_t i) {
    std::uint64_t slot = (i * 7919 + client * 104729) % (kCodes / kSwappers);
    return static_cast<int>(1 + client + slot * kSwappers);
  }
  std::vector<int> expected_;  // each client writes only its own ids
};

TEST(ShadowCopyTest, UniqueValuesMovingBetweenRowsNeverMeetTwiceInTheCopy) {
  std::string db = testing::FreshDatabase();
  pg::Connection conn = testing::Connect(db);
  conn.Run(fmt::format(
      "CREATE TABLE codes (id int PRIMARY KEY, code int NOT NULL UNIQUE, hits int NOT NULL, "
      "filler text);"
      "INSERT INTO codes SELECT g, g, 0, repeat('x', 200) FROM generate_series(1, {}) g;"
      "ANALYZE codes;",
      kCodes));
  State(conn).Init();
  CodeSwaps swaps;
  testing::Writers load(db, kSwappers, std::ref(swaps));
  std::this_thread::sleep_for(std::chrono::milliseconds(300));
  SilentProgress progress;
  Engine engine(conn, ShadowOptions(), progress);
  engine.Start(testing::ParseOperations(
      "hits_bigint", R"({"alter_column": {"table": "codes", "column": "hits", "type": "bigint",
                                         "up": "hits", "down": "hits::integer"}})"));
  engine.Complete();
  std::this_thread::sleep_for(std::chrono::milliseconds(200));
  load.Stop();
  EXPECT_EQ(load.failed, 0) << load.last_error();
  EXPECT_GT(load.done, 100);
  EXPECT_EQ(swaps.Mismatches(conn), 0) << "every swap committed is in the new heap";
  nlohmann::json checkpoint = CopyCheckpoint(conn);
  EXPECT_EQ(checkpoint.value("catchup_sessions", 0), 1) << checkpoint.dump();
  EXPECT_EQ(conn.Exec("SELECT count(*) FROM pg_indexes WHERE tablename = 'codes' AND indexname "
                      "= 'codes_code_key'")
                .Int(0, 0),
            1);
}

TEST(ShadowCopyTest, AServerThatRefusesAnotherConnectionGetsTheCopyAndTheCatchUpOnOne) {
  std::string db = testing::FreshDatabase();
  pg::Connection admin = testing::Connect(db);
  // A role allowed one connection: the migration's own. Superusers ignore connection limits.
  admin.Run(
      "DO $$ BEGIN IF NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 'one_conn') THEN CREATE "
      "ROLE one_conn LOGIN CONNECTION LIMIT 1; END IF; END $$;");
  admin.Exec(fmt::format("GRANT CREATE ON DATABASE {} TO one_conn", admin.Ident(admin.Database())));
  admin.Exec("GRANT CREATE ON SCHEMA public TO one_conn");
  pg::Connection conn = testing::Connect(db + " user=one_conn");
  conn.Run(
      fmt::format("CREATE TABLE accounts (id int PRIMARY KEY, balance int NOT NULL);"
                  "INSERT INTO accounts SELECT g, g % 1000 FROM generate_series(1, {}) g;"
                  "ANALYZE accounts;",
                  kRows));
  State(conn).Init();
  testing::Writers load(db, 4, [](pg::Connection& c, int client, std::uint64_t n) {
    c.Exec("UPDATE accounts SET balance = balance + 1 WHERE id = $1",
           {std::to_string(1 + (client * 7919 + n * 104729) % kRows)});
  });
  std::this_thread::sleep_for(std::chrono::milliseconds(300));
  testing::MessageLog progress;
  Engine engine(conn, ShadowOptions(), progress);
  engine.Start(Migration());
  load.Stop();
  EXPECT_EQ(load.failed, 0) << load.last_error();
  EXPECT_TRUE(progress.Has("copying accounts with 1 session instead of 2"))
      << ::testing::PrintToString(progress.messages);
  // The stages `bench` marks on its timeline come as events: the catch-up once, the swap last.
  ASSERT_FALSE(progress.stages.empty());
  EXPECT_EQ(std::count(progress.stages.begin(), progress.stages.end(), CopyStage::kCatchUp), 1);
  EXPECT_EQ(progress.stages.back(), CopyStage::kSwapped);
  nlohmann::json checkpoint = CopyCheckpoint(conn);
  EXPECT_EQ(checkpoint["lanes"].size(), 2U) << "one session copied both ranges, one after another";
  EXPECT_EQ(checkpoint.value("catchup_sessions", 0), 1);
  EXPECT_EQ(conn.Exec("SELECT count(*) FROM accounts WHERE _zd_new_balance IS DISTINCT FROM "
                      "balance")
                .Int(0, 0),
            0);
}

}  // namespace
}  // namespace zerodown::engine
