// Promise: `zerodown bluegreen start` runs a migration on green alone while blue serves under
// writes and replicates into green: every blue row reaches green with the new columns filled by
// `up` (rows blue writes after the start included), blue sees no failed write and no schema
// change, and a switch afterwards carries green's writes back to blue. What logical replication
// does not tolerate on the subscriber (a dropped column, the shadow strategy) is refused before
// anything changes. `bluegreen complete` contracts on green while blue's rows keep arriving.
#include <fmt/format.h>
#include <gtest/gtest.h>
#include <unistd.h>

#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <nlohmann/json.hpp>
#include <thread>

#include "support/database.hpp"
#include "support/green_cluster.hpp"
#include "support/writers.hpp"

namespace zerodown::testing {
namespace {

using namespace std::chrono_literals;

// 2,000 rows; ZERODOWN_BGSTART_ROWS sets another number for a measurement of blue's latency
// while green runs a larger backfill.
std::string AccountsSql() {
  const char* rows = std::getenv("ZERODOWN_BGSTART_ROWS");
  return "CREATE TABLE accounts (id bigserial PRIMARY KEY, client int NOT NULL, amount int NOT "
         "NULL); INSERT INTO accounts (client, amount) SELECT -1, g % 100000 FROM "
         "generate_series(1, " +
         std::to_string(rows ? std::atol(rows) : 2000) + ") g;";
}

// Adds a column computed from another (filled by a backfill and the trigger), then widens
// `amount` through a copy column kept in step by the trigger.
constexpr std::string_view kWiden = R"(name: widen_amount
operations:
  - add_column:
      table: accounts
      column: {name: cents, type: bigint, nullable: true}
      up: amount * 100
  - alter_column:
      table: accounts
      column: amount
      type: bigint
      up: amount::bigint
      down: amount::int
)";

constexpr std::string_view kDropClient = R"(name: drop_client
operations:
  - drop_column: {table: accounts, column: client}
)";

constexpr std::string_view kAmountBigint = R"(name: amount_bigint
operations:
  - alter_column: {table: accounts, column: amount, type: bigint}
)";

std::string WriteMigration(std::string_view name, std::string_view text) {
  std::string dir = "/tmp/zerodown-bgstart-" + std::to_string(getpid());
  std::filesystem::create_directories(dir);
  std::string path = dir + "/" + std::string(name) + ".yaml";
  std::ofstream(path) << text;
  return path;
}

std::string Query(const std::string& conninfo, const std::string& sql) {
  return Connect(conninfo).Exec(sql).Text(0, 0);
}

struct PairFixture {
  std::string blue = FreshDatabase();
  std::string green = FreshGreenDatabase(blue);

  void Create() {
    Connect(blue).Run(AccountsSql());
    std::string out;
    ASSERT_EQ(RunZerodown(BlueGreen("create", blue, green), &out), 0) << out;
    for (int i = 0; i < 1200; ++i) {
      if (Status()["tables_ready"] == 2) return;
      std::this_thread::sleep_for(250ms);
    }
    FAIL() << "initial copy did not finish";
  }
  nlohmann::json Status() {
    std::string out;
    if (RunZerodown("--json " + BlueGreen("status", blue, green), &out) != 0) return nullptr;
    return nlohmann::json::parse(out.substr(0, out.find('\n')));
  }
  // Waits until green shows what blue shows for `sql` (green applies in commit order).
  bool WaitEqual(const std::string& sql) {
    for (int i = 0; i < 600; ++i) {
      if (Query(blue, sql) == Query(green, sql)) return true;
      std::this_thread::sleep_for(100ms);
    }
    return false;
  }
  // Lets blue's writers go on for 2 s after `step`, stops them, expects none failed and many
  // wrote meanwhile, and waits for green to show blue's rows.
  bool WriteOnThenCatchUp(Writers& writers, const char* step) {
    int done = writers.done;
    std::this_thread::sleep_for(2s);
    writers.Stop();
    EXPECT_EQ(writers.failed, 0) << writers.last_error();
    EXPECT_GT(writers.done - done, 50) << "blue kept writing after the " << step;
    return WaitEqual("SELECT count(*) || ' ' || sum(amount) FROM accounts");
  }
};

// Inserts and updates on blue at an application's steady pace.
void WriteAccounts(pg::Connection& conn, int client, std::uint64_t n) {
  if (n % 2 == 0) {
    conn.Exec("INSERT INTO accounts (client, amount) VALUES ($1, $2)",
              {std::to_string(client), std::to_string(n % 1000)});
  } else {
    conn.Exec(
        "UPDATE accounts SET amount = amount + 1 WHERE id = (SELECT floor(random() * 2000)::int + "
        "1)");
  }
  std::this_thread::sleep_for(5ms);
}

TEST(BlueGreenStart, MigratesGreenWhileBlueWritesAndReplicates) {
  PairFixture pair;
  ASSERT_NO_FATAL_FAILURE(pair.Create());
  std::string blue_schema = SchemaDump(pair.blue);
  Writers writers(pair.blue, 4, WriteAccounts);
  std::this_thread::sleep_for(1s);
  // Blue's writes with nothing running on green, then while green runs the migration: printed
  // for the record (a shared machine makes a bound flaky), not asserted.
  writers.max_ms = 0;
  int done_before = writers.done;
  auto began = std::chrono::steady_clock::now();
  std::this_thread::sleep_for(3s);
  double idle_s = std::chrono::duration<double>(std::chrono::steady_clock::now() - began).count();
  std::int64_t idle_max = writers.max_ms.exchange(0);
  int idle_done = writers.done - done_before;

  std::string out;
  began = std::chrono::steady_clock::now();
  ASSERT_EQ(RunZerodown(BlueGreen("start", pair.blue, pair.green) + " " +
                            Quoted(WriteMigration("widen", kWiden)),
                        &out),
            0)
      << out;
  double start_s = std::chrono::duration<double>(std::chrono::steady_clock::now() - began).count();
  std::int64_t start_max = writers.max_ms.load();
  int start_done = writers.done - done_before - idle_done;
  std::cout << fmt::format(
      "blue, 4 writers: idle green {:.1f} s, {:.0f} tx/s, max {} ms; during bluegreen start "
      "{:.1f} s, {:.0f} tx/s, max {} ms\n",
      idle_s, idle_done / idle_s, idle_max, start_s, start_done / start_s, start_max);
  std::int64_t last_before = Connect(pair.blue).Exec("SELECT max(id) FROM accounts").Int(0, 0);
  ASSERT_TRUE(pair.WriteOnThenCatchUp(writers, "start")) << "green did not catch up with blue";

  auto status = pair.Status();
  ASSERT_TRUE(status.is_object());
  ASSERT_TRUE(status["migration"].is_object()) << status.dump();
  EXPECT_EQ(status["migration"]["name"], "widen_amount");
  EXPECT_EQ(status["migration"]["phase"], "started");
  std::string version = status["migration"]["version_schema"];

  // Every blue row, as the new version on green shows it: amount widened, cents computed.
  auto rows = Connect(pair.blue).Exec("SELECT id, amount FROM accounts ORDER BY id");
  auto seen = Connect(pair.green)
                  .Exec("SELECT id, amount, cents, pg_typeof(amount)::text FROM " +
                        Connect(pair.green).Ident(version, "accounts") + " ORDER BY id");
  ASSERT_EQ(seen.size(), rows.size());
  int wrong = 0;
  int after_start = 0;
  for (int i = 0; i < rows.size(); ++i) {
    bool same = seen.Int(i, 0) == rows.Int(i, 0) && seen.Int(i, 1) == rows.Int(i, 1) &&
                !seen.IsNull(i, 2) && seen.Int(i, 2) == rows.Int(i, 1) * 100;
    wrong += same ? 0 : 1;
    after_start += rows.Int(i, 0) > last_before ? 1 : 0;
  }
  EXPECT_EQ(wrong, 0) << "rows on green whose new columns do not match blue's row";
  EXPECT_GT(after_start, 0) << "rows written on blue after the start";
  EXPECT_EQ(seen.Text(0, 3), "bigint");
  EXPECT_EQ(SchemaDump(pair.blue), blue_schema) << "blue's schema changed";

  // The way back carries only the columns blue has: a switch, then a write on green reaches blue.
  ASSERT_EQ(RunZerodown(BlueGreen("switch", pair.blue, pair.green), &out), 0) << out;
  Connect(pair.green).Exec("INSERT INTO accounts (client, amount) VALUES (99, 7)");
  EXPECT_TRUE(pair.WaitEqual("SELECT count(*) FROM accounts WHERE client = 99"))
      << "green's write did not reach blue";
  ASSERT_EQ(RunZerodown(BlueGreen("finish", pair.blue, pair.green), &out), 0) << out;
}

TEST(BlueGreenStart, CompleteOnGreenKeepsBluesRowsArriving) {
  PairFixture pair;
  ASSERT_NO_FATAL_FAILURE(pair.Create());
  Writers writers(pair.blue, 4, WriteAccounts);
  std::string out;
  std::string file = WriteMigration("bigint", kAmountBigint);
  ASSERT_EQ(RunZerodown(BlueGreen("start", pair.blue, pair.green) + " " + Quoted(file), &out), 0)
      << out;
  std::this_thread::sleep_for(1s);
  ASSERT_EQ(RunZerodown(BlueGreen("complete", pair.blue, pair.green) + " amount_bigint", &out), 0)
      << out;
  EXPECT_TRUE(pair.WriteOnThenCatchUp(writers, "complete"))
      << "green did not keep up with blue after the complete";
  EXPECT_TRUE(
      pair.WaitEqual("SELECT md5(string_agg(id || ':' || amount, ',' ORDER BY id)) "
                     "FROM accounts"));
  EXPECT_EQ(Query(pair.green,
                  "SELECT format_type(atttypid, atttypmod) FROM pg_attribute WHERE attrelid = "
                  "'accounts'::regclass AND attname = 'amount'"),
            "bigint");
  EXPECT_EQ(Query(pair.blue,
                  "SELECT format_type(atttypid, atttypmod) FROM pg_attribute WHERE attrelid = "
                  "'accounts'::regclass AND attname = 'amount'"),
            "integer");
  EXPECT_EQ(pair.Status()["migration"]["phase"], "completed");
  ASSERT_EQ(RunZerodown(BlueGreen("abort", pair.blue, pair.green), &out), 0) << out;
}

std::string ColumnType(const std::string& conninfo, const std::string& column) {
  return Query(conninfo,
               "SELECT coalesce(format_type(atttypid, atttypmod), 'none') FROM (SELECT 1) AS one "
               "LEFT JOIN pg_attribute ON attrelid = 'accounts'::regclass AND attname = '" +
                   column + "' AND NOT attisdropped");
}

// `bluegreen rollback` undoes a start on green while blue writes: green has blue's schema
// again, blue's rows keep arriving (no column the publication or the subscription names is
// gone), and the same migration can start again.
TEST(BlueGreenStart, RollbackOnGreenKeepsBluesRowsArrivingAndStartsAgain) {
  PairFixture pair;
  ASSERT_NO_FATAL_FAILURE(pair.Create());
  Writers writers(pair.blue, 4, WriteAccounts);
  std::string out;
  std::string file = WriteMigration("widen", kWiden);
  ASSERT_EQ(RunZerodown(BlueGreen("start", pair.blue, pair.green) + " " + Quoted(file), &out), 0)
      << out;
  EXPECT_EQ(ColumnType(pair.green, "cents"), "bigint");
  EXPECT_EQ(RunZerodown(BlueGreen("rollback", pair.blue, pair.green) + " other_name", &out),
            ExitCode(ErrorKind::kConflict))
      << out;
  EXPECT_NE(out.find("no migration \"other_name\" was started on green"), std::string::npos) << out;
  ASSERT_EQ(RunZerodown(BlueGreen("rollback", pair.blue, pair.green) + " widen_amount", &out), 0)
      << out;
  EXPECT_EQ(ColumnType(pair.green, "cents"), "none");
  EXPECT_EQ(ColumnType(pair.green, "amount"), "integer");
  EXPECT_EQ(Query(pair.green,
                  "SELECT count(*) FROM pg_attribute WHERE attrelid = 'accounts'::regclass AND "
                  "attname LIKE '\\_zd\\_%' AND NOT attisdropped"),
            "0");
  EXPECT_TRUE(pair.Status()["migration"].is_null()) << pair.Status().dump();
  EXPECT_TRUE(pair.WriteOnThenCatchUp(writers, "rollback"))
      << "green did not keep up with blue after the rollback";
  EXPECT_TRUE(
      pair.WaitEqual("SELECT md5(string_agg(id || ':' || client || ':' || amount, ',' ORDER BY "
                     "id)) FROM accounts"));
  ASSERT_EQ(RunZerodown(BlueGreen("start", pair.blue, pair.green) + " " + Quoted(file), &out), 0)
      << out;
  EXPECT_EQ(ColumnType(pair.green, "cents"), "bigint");
  ASSERT_EQ(RunZerodown(BlueGreen("abort", pair.blue, pair.green), &out), 0) << out;
}

TEST(BlueGreenStart, RefusesWhatReplicationCannotTakeBeforeChangingAnything) {
  PairFixture pair;
  ASSERT_NO_FATAL_FAILURE(pair.Create());
  std::string green_schema = SchemaDump(pair.green);
  std::string blue_schema = SchemaDump(pair.blue);
  std::string out;

  EXPECT_EQ(RunZerodown(BlueGreen("start", pair.blue, pair.green) + " " +
                            Quoted(WriteMigration("drop", kDropClient)),
                        &out),
            2)
      << out;
  EXPECT_NE(out.find("drop_column"), std::string::npos) << out;
  EXPECT_NE(out.find("bluegreen finish"), std::string::npos) << "names the fix: " << out;

  EXPECT_EQ(RunZerodown(BlueGreen("start", pair.blue, pair.green) + " --mechanism shadow " +
                            Quoted(WriteMigration("bigint", kAmountBigint)),
                        &out),
            2)
      << out;
  EXPECT_NE(out.find("shadow"), std::string::npos) << out;

  EXPECT_EQ(SchemaDump(pair.green), green_schema) << "green changed";
  EXPECT_EQ(SchemaDump(pair.blue), blue_schema) << "blue changed";
  EXPECT_TRUE(pair.Status()["migration"].is_null());

  // Green fenced, as `switch --back` leaves it: the migration's writes there would be refused
  // part-way, so start refuses first.
  Connect(pair.green)
      .Run(
          "CREATE FUNCTION fence() RETURNS trigger LANGUAGE plpgsql AS $$BEGIN RAISE EXCEPTION "
          "'fenced' USING ERRCODE = '25006'; END$$; CREATE TRIGGER zerodown_bluegreen_fence "
          "BEFORE INSERT OR UPDATE OR DELETE ON accounts EXECUTE FUNCTION fence()");
  green_schema = SchemaDump(pair.green);
  EXPECT_EQ(RunZerodown(BlueGreen("start", pair.blue, pair.green) + " " +
                            Quoted(WriteMigration("widen", kWiden)),
                        &out),
            2)
      << out;
  EXPECT_NE(out.find("write fence"), std::string::npos) << out;
  EXPECT_NE(out.find("Nothing was changed"), std::string::npos) << out;
  EXPECT_EQ(SchemaDump(pair.green), green_schema) << "green changed";
  EXPECT_TRUE(pair.Status()["migration"].is_null());
  Connect(pair.green)
      .Run("DROP TRIGGER zerodown_bluegreen_fence ON accounts; DROP FUNCTION fence()");

  // Replication still runs.
  Connect(pair.blue).Exec("INSERT INTO accounts (client, amount) VALUES (7, 7)");
  EXPECT_TRUE(pair.WaitEqual("SELECT count(*) FROM accounts"));
  ASSERT_EQ(RunZerodown(BlueGreen("abort", pair.blue, pair.green), &out), 0) << out;
}

}  // namespace
}  // namespace zerodown::testing
