// A primary key's type change (int -> bigint on accounts.id, a serial with a foreign key pointing
// at it) on a real server, written as plain SQL: under 8 writing clients the table is copied into
// a new heap whose key is bigint and swapped in with 0 failed transactions; `verify` finds the
// old and new heaps equal; the old heap is kept, so a rollback with writes made after the swap
// swaps it back with every one of them, the foreign key and the view; complete drops it; a key the
// old type cannot hold makes the rollback refuse before anything changes; and a swap back that
// cannot get its lock leaves the new heap serving and finishes on the next rollback. Before each
// swap, the last entries are replayed in slices that hold the writes (not the reads).
#include <gtest/gtest.h>

#include <atomic>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <memory>
#include <thread>

#include "support/accounts.hpp"
#include "support/database.hpp"
#include "support/message_log.hpp"
#include "support/migrations.hpp"
#include "support/writers.hpp"
#include "zerodown/engine/engine.hpp"
#include "zerodown/engine/state.hpp"
#include "zerodown/sql/translate.hpp"
#include "zerodown/verify/verify.hpp"

namespace zerodown::engine {
namespace {

constexpr int kRows = 1000000;
constexpr int kClients = 8;

// The migration as a user would write it: one ALTER TABLE in a .sql file.
model::Migration SqlMigration() {
  auto dir = std::filesystem::temp_directory_path() / "zerodown-key-retype";
  std::filesystem::create_directories(dir);
  auto path = dir / "accounts_id_bigint.sql";
  std::ofstream(path) << "ALTER TABLE accounts ALTER COLUMN id TYPE bigint;\n";
  return sql::TranslateSqlFile(path.string(), {}).ValueOrThrow();
}

using testing::Bank;
using testing::HistoryKeyValid;
using testing::KeyType;
using testing::SetUpAccounts;

void ExpectVerifyClean(pg::Connection& conn, const MigrationRecord& record) {
  testing::ExpectVerifyClean(conn, record.plan, kRows / 2);
}

// What the engine said about slices that held the writes, and about a catch-up the writes kept
// up with: where this test's time goes.
void PrintHeldWrites(testing::MessageLog& progress) {
  for (const std::string& message : progress.messages) {
    if (message.find("as fast as") != std::string::npos ||
        message.find("held the application's writes") != std::string::npos)
      std::cout << "[ held     ] " << message << "\n";
  }
}

// The swap's checkpoint `step`: slices that each held the application's writes for about 20 ms
// replayed what the last rounds left, before the lock.
void ExpectWritesHeldInSlices(const nlohmann::json& step) {
  std::cout << "[ held     ] " << step.value("swap_held_slices", 0)
            << " slices held the writes, the longest " << step.value("swap_held_longest_ms", 0.0)
            << " ms\n";
  EXPECT_GE(step.value("swap_held_slices", 0), 1) << step.dump();
  // Bounded only by what would mean a slice replayed far more than its share, or waited on
  // the load: the 20 ms aim is what the machine allows.
  EXPECT_LT(step.value("swap_held_longest_ms", 1e9), 1000.0) << step.dump();
}

TEST(KeyRetypeTest, UnderLoadSwapsVerifiesAndRollsBackWithEveryWrite) {
  std::string db = SetUpAccounts(kRows);
  pg::Connection conn = testing::Connect(db);
  std::int64_t sum_before = conn.Exec("SELECT sum(balance) FROM accounts").Int(0, 0);

  Bank bank(kRows);
  auto load = std::make_unique<testing::Writers>(db, kClients, std::ref(bank));
  std::this_thread::sleep_for(std::chrono::milliseconds(300));
  testing::MessageLog progress;
  // 8 writers in tight loops log about as many changes a second as the replay takes: the last
  // rounds before each swap often leave the log long, and the swaps then replay it in slices
  // that hold the writes. A target of 0 makes them do so every time, not only when the machine
  // is slow or the writers fast (under ASan the rounds emptied the log).
  EngineOptions options = testing::FastEngineOptions();
  options.swap_log_target = 0;
  Engine engine(conn, options, progress);
  auto record = engine.Start(SqlMigration());
  ASSERT_EQ(record.phase, zerodown::engine::MigrationPhase::kActive);
  ASSERT_EQ(record.plan.start.front().kind, ActionKind::kShadowCopy)
      << "a key's type changes by a copy, whatever the table's size";
  EXPECT_EQ(KeyType(conn), "bigint");
  EXPECT_EQ(conn.Exec("SELECT format_type(seqtypid, NULL) FROM pg_sequence WHERE seqrelid = "
                      "'accounts_id_seq'::regclass")
                .Text(0, 0),
            "bigint")
      << "the serial's sequence widened with its column";
  EXPECT_TRUE(HistoryKeyValid(conn)) << "history's foreign key points at the new heap";
  // The swap's lock, as the copy measured it: reported (the 50 ms goal is the benchmark's, on a
  // quiet machine), and bounded here only by what would mean the lock waited on the load.
  nlohmann::json copy = nlohmann::json::parse(
      conn.Exec("SELECT checkpoint FROM zerodown.steps WHERE action LIKE '%shadow_copy' AND "
                "phase = 'start'")
          .Text(0, 0));
  double swap_ms = copy.value("swap_lock_ms", 1e9);
  std::cout << "[ swap     ] ACCESS EXCLUSIVE held " << swap_ms << " ms under " << kClients
            << " writers, " << copy.value("swap_replay_ms", 0.0) << " ms of it replaying the last "
            << copy.value("swap_replayed", 0) << " logged changes, catalog read done at "
            << copy.value("swap_read_ms", 0.0) << " ms; " << copy.value("swap_log_before", 0)
            << " left before, lock had " << copy.value("swap_wait_ms", 0.0) << " ms later\n";
  std::cout << "[ catch-up ] " << copy.value("catchup_replayed", 0) << " logged changes in "
            << copy.value("catchup_seconds", 0.0) << " s by " << copy.value("catchup_sessions", 0)
            << " sessions\n";
  PrintHeldWrites(progress);
  ExpectWritesHeldInSlices(copy);
  EXPECT_EQ(copy.value("catchup_sessions", 0), 2)
      << "two sessions shared the catch-up, and verify below finds every row equal";
  RecordProperty("swap_lock_ms", std::to_string(swap_ms));
  EXPECT_LT(swap_ms, 1000.0);
  EXPECT_TRUE(conn.Exec("SELECT to_regclass('public._zd_retired_accounts') IS NOT NULL").Bool(0, 0))
      << "the old heap is kept until complete";

  // Writes after the swap; verify between two bursts of load (its speed is not under test, and
  // a 1 M-row verify under 8 busy clients on 2 cores would dominate the suite's time).
  std::this_thread::sleep_for(std::chrono::milliseconds(1500));
  load->Stop();
  int failed = load->failed;
  std::string last_error = load->last_error();
  ExpectVerifyClean(conn, record);

  load = std::make_unique<testing::Writers>(db, kClients, std::ref(bank));
  std::this_thread::sleep_for(std::chrono::milliseconds(1000));
  std::int64_t opened_before_rollback = bank.opened;
  progress.messages.clear();
  engine.Rollback();
  std::this_thread::sleep_for(std::chrono::milliseconds(500));
  load->Stop();
  failed += load->failed;
  if (last_error.empty()) last_error = load->last_error();

  EXPECT_EQ(failed, 0) << last_error;
  EXPECT_GT(bank.opened, opened_before_rollback) << "the load ran across the rollback";
  PrintHeldWrites(progress);
  EXPECT_TRUE(progress.Has("that each held the application's writes"))
      << "the swap back, too, held the writes in slices";
  EXPECT_EQ(KeyType(conn), "integer") << "the old heap is back";
  EXPECT_EQ(conn.Exec("SELECT sum(balance) FROM accounts").Int(0, 0), sum_before);
  EXPECT_EQ(conn.Exec("SELECT count(*) FROM accounts").Int(0, 0), kRows + bank.opened)
      << "every account opened, before and after the swap and during the swap back, is there";
  EXPECT_EQ(conn.Exec("SELECT count(*) FROM history h WHERE NOT EXISTS (SELECT 1 FROM accounts a "
                      "WHERE a.id = h.account)")
                .Int(0, 0),
            0);
  EXPECT_TRUE(HistoryKeyValid(conn)) << "history's foreign key points at the old heap again";
  EXPECT_EQ(conn.Exec("SELECT count(*) FROM pg_constraint WHERE conrelid = 'accounts'::regclass "
                      "AND contype = 'p' AND conname = 'accounts_pkey'")
                .Int(0, 0),
            1);
  EXPECT_EQ(conn.Exec("SELECT count(*) FROM pg_indexes WHERE tablename = 'accounts' AND "
                      "indexname = 'accounts_branch'")
                .Int(0, 0),
            1);
  EXPECT_TRUE(conn.Exec("SELECT has_table_privilege('reader', 'rich', 'SELECT')").Bool(0, 0))
      << "the view was re-created with its grant";
  EXPECT_EQ(conn.Exec("SELECT count(*) FROM rich").Int(0, 0),
            conn.Exec("SELECT count(*) FROM accounts WHERE branch > 5").Int(0, 0));
  EXPECT_TRUE(conn.Exec("SELECT to_regclass('public._zd_retired_accounts') IS NULL AND "
                        "to_regclass('public._zd_shadow_accounts') IS NULL AND NOT EXISTS (SELECT "
                        "1 FROM pg_tables WHERE schemaname = 'zerodown' AND tablename LIKE "
                        "'%log_%')")
                  .Bool(0, 0))
      << "the new heap and both logs are gone";
  conn.Exec("INSERT INTO accounts (balance, branch) VALUES (1, 1)");
}

TEST(KeyRetypeTest, CompleteDropsTheOldHeap) {
  std::string db = SetUpAccounts(20000);
  pg::Connection conn = testing::Connect(db);
  SilentProgress progress;
  Engine engine(conn, testing::FastEngineOptions(), progress);
  engine.Start(SqlMigration());
  conn.Exec("INSERT INTO accounts (balance, branch) VALUES (5, 5)");
  engine.Complete();
  EXPECT_EQ(KeyType(conn), "bigint");
  EXPECT_TRUE(conn.Exec("SELECT to_regclass('public._zd_retired_accounts') IS NULL AND NOT EXISTS "
                        "(SELECT 1 FROM pg_tables WHERE schemaname = 'zerodown' AND tablename "
                        "LIKE '%log_%') AND NOT EXISTS (SELECT 1 FROM pg_trigger WHERE tgrelid = "
                        "'accounts'::regclass AND NOT tgisinternal)")
                  .Bool(0, 0));
  EXPECT_EQ(conn.Exec("SELECT count(*) FROM accounts").Int(0, 0), 20001);
  EXPECT_TRUE(HistoryKeyValid(conn));
}

// The catch-up finds each row's copy by the key's value: an `up` that changes the values would
// make it delete another row's copy. A cast is fine; `id * 2` is refused at plan time.
TEST(KeyRetypeTest, AnUpThatChangesTheKeysValuesIsRefused) {
  std::string db = SetUpAccounts(2000);
  pg::Connection conn = testing::Connect(db);
  SilentProgress progress;
  Engine engine(conn, testing::FastEngineOptions(), progress);
  auto retype = [](const std::string& up) {
    return testing::ParseOperations("m", fmt::format(R"zd({{"alter_column": {{"table": "accounts",
        "column": "id", "type": "bigint", "up": "{}"}}}})zd",
                                                     up));
  };
  EXPECT_NO_THROW(engine.PlanOnly(retype("id::bigint")));
  EXPECT_NO_THROW(engine.PlanOnly(retype("id")));
  try {
    engine.PlanOnly(retype("id * 2"));
    ADD_FAILURE() << "an up of id * 2 was planned";
  } catch (const Error& error) {
    EXPECT_EQ(error.kind(), ErrorKind::kInvalidMigration);
    EXPECT_NE(error.message().find("does not keep the key's values: 2000 of the table's first"),
              std::string::npos)
        << error.message();
    EXPECT_EQ(error.where(), "m.json, operation 1 (alter_column), field up");
  }
}

// The copy re-creates the views over the table with the new type, which needs DROP VIEW; a view
// that reads one of them would make PostgreSQL refuse the drop mid-swap, so the plan refuses
// first, naming the outer view, and changes nothing.
TEST(KeyRetypeTest, AViewOverAViewOfTheTableIsRefusedByThePlan) {
  std::string db = SetUpAccounts(2000);
  pg::Connection conn = testing::Connect(db);
  conn.Run(
      "CREATE VIEW big_accounts AS SELECT id, balance FROM accounts WHERE balance > 0;"
      "CREATE VIEW big_account_ids AS SELECT id FROM big_accounts;");
  SilentProgress progress;
  Engine engine(conn, testing::FastEngineOptions(), progress);
  try {
    engine.PlanOnly(SqlMigration());
    ADD_FAILURE() << "a key retype under a view over a view was planned";
  } catch (const Error& error) {
    EXPECT_EQ(error.kind(), ErrorKind::kInvalidMigration) << error.Describe();
    EXPECT_NE(error.message().find("view big_account_ids reads a view of it"), std::string::npos)
        << error.Describe();
  }
  conn.Run("DROP VIEW big_account_ids;");
  EXPECT_NO_THROW(engine.PlanOnly(SqlMigration())) << "one level of views is copied";
  EXPECT_EQ(KeyType(conn), "integer") << "nothing changed";
}

TEST(KeyRetypeTest, RollbackRefusesAKeyTheOldTypeCannotHold) {
  std::string db = SetUpAccounts(20000);
  pg::Connection conn = testing::Connect(db);
  SilentProgress progress;
  Engine engine(conn, testing::FastEngineOptions(), progress);
  engine.Start(SqlMigration());
  conn.Exec("INSERT INTO accounts (id, balance, branch) VALUES (3000000000, 1, 1)");
  try {
    engine.Rollback();
    FAIL() << "a bigint key cannot go back into an integer column";
  } catch (const Error& error) {
    EXPECT_EQ(error.kind(), ErrorKind::kMigrationFailed) << error.Describe();
    EXPECT_NE(error.fix().find("Complete the migration"), std::string::npos) << error.Describe();
  }
  EXPECT_EQ(KeyType(conn), "bigint") << "nothing changed";
  EXPECT_EQ(conn.Exec("SELECT count(*) FROM accounts").Int(0, 0), 20001);
  conn.Exec("DELETE FROM accounts WHERE id = 3000000000");
  engine.Rollback();
  EXPECT_EQ(KeyType(conn), "integer");
  EXPECT_EQ(conn.Exec("SELECT count(*) FROM accounts").Int(0, 0), 20000);
}

TEST(KeyRetypeTest, SwapBackThatCannotGetItsLockResumesOnTheNextRollback) {
  std::string db = SetUpAccounts(20000);
  pg::Connection conn = testing::Connect(db);
  EngineOptions options = testing::FastEngineOptions();
  options.lock.max_attempts = 3;
  options.lock.max_backoff = std::chrono::milliseconds(100);
  SilentProgress progress;
  Engine engine(conn, options, progress);
  engine.Start(SqlMigration());
  conn.Exec("INSERT INTO accounts (balance, branch) VALUES (7, 7)");
  conn.Exec("UPDATE accounts SET balance = balance + 1 WHERE id = 1");
  std::int64_t sum = conn.Exec("SELECT sum(balance) FROM accounts").Int(0, 0);

  // A reader of the old heap (a report, a backup) holds it across every attempt of the swap back.
  pg::Connection reader = testing::Connect(db);
  reader.Exec("BEGIN");
  reader.Exec("SELECT count(*) FROM _zd_retired_accounts");
  try {
    engine.Rollback();
    FAIL() << "the swap back cannot have its lock while the reader holds the old heap";
  } catch (const Error& error) {
    EXPECT_EQ(error.kind(), ErrorKind::kLockTimeout) << error.Describe();
  }
  EXPECT_EQ(KeyType(conn), "bigint") << "the new heap still serves";
  conn.Exec("INSERT INTO accounts (balance, branch) VALUES (8, 8)");
  sum += 8;
  reader.Exec("COMMIT");

  engine.Rollback();
  EXPECT_EQ(KeyType(conn), "integer");
  EXPECT_EQ(conn.Exec("SELECT count(*) FROM accounts").Int(0, 0), 20002)
      << "the rows written before and after the failed attempt are both there";
  EXPECT_EQ(conn.Exec("SELECT sum(balance) FROM accounts").Int(0, 0), sum);
  EXPECT_TRUE(HistoryKeyValid(conn));
}

// An identity key (GENERATED ALWAYS) with a stored generated column beside it: the new heap's
// identity counts on from where the old one was, past 2^31 - 1 once bigint; the rollback carries
// the count back, so no key is handed out twice; complete leaves one sequence, under its name.
TEST(KeyRetypeTest, AnIdentityKeyKeepsCountingAcrossTheSwapAndTheSwapBack) {
  std::string db = testing::FreshDatabase();
  pg::Connection conn = testing::Connect(db);
  conn.Run(
      "CREATE TABLE events (id int GENERATED ALWAYS AS IDENTITY PRIMARY KEY, body text NOT NULL, "
      "body_len int GENERATED ALWAYS AS (length(body)) STORED);"
      "INSERT INTO events (body) SELECT repeat('x', g % 7) FROM generate_series(1, 20000) g;"
      "ANALYZE events;");
  State(conn).Init();
  auto next_id = [&] {
    return conn.Exec("INSERT INTO events (body) VALUES ('abc') RETURNING id, body_len").Text(0, 0);
  };
  auto sequence_max = [&] {
    return conn
        .Exec(
            "SELECT seqmax::text FROM pg_sequence WHERE seqrelid = "
            "pg_get_serial_sequence('events', 'id')::regclass")
        .Text(0, 0);
  };
  SilentProgress progress;
  Engine engine(conn, testing::FastEngineOptions(), progress);
  auto migration = testing::ParseOperations(
      "events_id_bigint",
      R"({"alter_column": {"table": "events", "column": "id", "type": "bigint"}})");
  engine.Start(migration);
  EXPECT_EQ(next_id(), "20001") << "the new heap's identity continues the old one's";
  EXPECT_EQ(sequence_max(), "9223372036854775807") << "a bigint key's identity counts that far";
  EXPECT_EQ(conn.Exec("SELECT pg_get_serial_sequence('events', 'id')").Text(0, 0),
            "public.events_id_seq");
  EXPECT_EQ(conn.Exec("SELECT count(*) FROM events WHERE body_len IS DISTINCT FROM length(body)")
                .Int(0, 0),
            0)
      << "the generated column is computed by the new heap";
  conn.Exec("SELECT setval(pg_get_serial_sequence('events', 'id'), 3000000000)");
  EXPECT_EQ(next_id(), "3000000001");
  EXPECT_THROW(engine.Rollback(), Error) << "3000000001 does not fit the old integer key";
  conn.Exec("DELETE FROM events WHERE id = 3000000001");
  conn.Exec("SELECT setval(pg_get_serial_sequence('events', 'id'), 20005)");
  EXPECT_EQ(next_id(), "20006");
  engine.Rollback();
  EXPECT_EQ(conn.Exec("SELECT format_type(atttypid, NULL) FROM pg_attribute WHERE attrelid = "
                      "'events'::regclass AND attname = 'id'")
                .Text(0, 0),
            "integer");
  EXPECT_EQ(next_id(), "20007") << "the old heap's identity took the count back";
  EXPECT_EQ(conn.Exec("SELECT count(*) FROM events").Int(0, 0), 20003);

  Engine again(conn, testing::FastEngineOptions(), progress);
  migration.name = "events_id_bigint_2";
  again.Start(migration);
  again.Complete();
  EXPECT_EQ(next_id(), "20008");
  EXPECT_EQ(conn.Exec("SELECT count(*) FROM pg_class WHERE relkind = 'S' AND relname LIKE "
                      "'\\_zd\\_%'")
                .Int(0, 0),
            0)
      << "no sequence of the copies is left";
}

}  // namespace
}  // namespace zerodown::engine
