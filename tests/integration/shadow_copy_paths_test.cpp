// The shadow copy's paths on a real server, beyond the swap under load: copy lanes over negative,
// sparse and extreme keys; a copy interrupted half-way resumes; a copy that differs from the
// table is never swapped in; the writes of an application role that owns nothing, a TRUNCATE
// and writes under session_replication_role = replica all reach the other heap; unique values
// that move between rows during the change never stop it; a server that refuses the catch-up a
// second connection gets it done on one.
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
using testing::kRows;
using testing::Migration;
using testing::Oid;
using testing::PlansACopy;
using testing::SetUpLedger;
using testing::ShadowOptions;
using testing::Transfer;

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
