// The core promise of expand/contract, on a real server: while `alter_column` int -> bigint runs
// under writing clients, no client transaction fails; old and new versions both read and write
// and see each other's writes; complete leaves the column bigint with every value intact; and
// rollback leaves the table exactly as before.
#include <gtest/gtest.h>

#include <atomic>
#include <thread>

#include "support/catalog_checks.hpp"
#include "support/database.hpp"
#include "support/migrations.hpp"
#include "support/writers.hpp"
#include "zerodown/engine/engine.hpp"
#include "zerodown/model/migration_reader.hpp"
#include "zerodown/pg/catalog.hpp"

namespace zerodown::engine {
namespace {

constexpr const char* kMigration = R"({
  "name": "balance_bigint",
  "operations": [{"alter_column": {"table": "accounts", "column": "balance", "type": "bigint",
                                   "up": "balance", "down": "balance::integer"}}]
})";

std::string SetUpAccounts(int rows) {
  std::string db = testing::FreshDatabase();
  pg::Connection conn = testing::Connect(db);
  conn.Run(
      "CREATE TABLE accounts (id int PRIMARY KEY, balance int NOT NULL, note text);"
      "INSERT INTO accounts SELECT g, g % 1000, 'n' FROM generate_series(1, " +
      std::to_string(rows) + ") g; ANALYZE accounts;");
  State(conn).Init();
  return db;
}

model::Migration Migration() {
  return model::ParseMigration(kMigration, model::Format::kJson, "balance_bigint.json")
      .ValueOrThrow();
}

// Writers that add +1 then -1 to random accounts through the old (public) schema, so every
// balance ends where it started whatever interleaving happened.
testing::Writers::Transaction PlusMinusOne(int rows) {
  return [rows](pg::Connection& conn, int client, std::uint64_t n) {
    std::string id = std::to_string(1 + (client * 7919 + n * 104729) % rows);
    conn.Exec("BEGIN");
    conn.Exec("UPDATE accounts SET balance = balance + 1 WHERE id = $1", {id});
    conn.Exec("UPDATE accounts SET balance = balance - 1 WHERE id = $1", {id});
    conn.Exec("COMMIT");
  };
}

TEST(AlterColumnUnderLoadTest, NoFailedTransactionsAndBothVersionsWorkThenComplete) {
  constexpr int kRows = 20000;
  std::string db = SetUpAccounts(kRows);
  pg::Connection conn = testing::Connect(db);
  std::int64_t sum_before = conn.Exec("SELECT sum(balance) FROM accounts").Int(0, 0);

  testing::Writers load(db, 8, PlusMinusOne(kRows));
  SilentProgress progress;
  Engine engine(conn, testing::FastEngineOptions(), progress);
  auto record = engine.Start(Migration());
  EXPECT_EQ(record.phase, zerodown::engine::MigrationPhase::kActive);
  std::string version = record.plan.version_schema;
  EXPECT_EQ(version, "public_balance_bigint");

  // The new version writes a value only bigint can hold... no: the old version must still read
  // it through down, so it writes a value both can hold, and sees the old version's writes.
  pg::Connection new_app = testing::Connect(db);
  new_app.Exec("SELECT set_config('search_path', $1, false)", {version});
  EXPECT_EQ(new_app
                .Exec("SELECT format_type(atttypid, atttypmod) FROM pg_attribute WHERE "
                      "attrelid = 'accounts'::regclass AND attname = 'balance'")
                .Text(0, 0),
            "bigint");
  new_app.Exec("INSERT INTO accounts (id, balance, note) VALUES ($1, 42, 'new')",
               {std::to_string(kRows + 1)});
  EXPECT_EQ(
      conn.Exec("SELECT balance FROM public.accounts WHERE id = $1", {std::to_string(kRows + 1)})
          .Int(0, 0),
      42)
      << "the old version sees the new version's insert";
  conn.Exec("UPDATE public.accounts SET balance = 7 WHERE id = 1");
  EXPECT_EQ(new_app.Exec("SELECT balance FROM accounts WHERE id = 1").Int(0, 0), 7)
      << "the new version sees the old version's update";
  new_app.Exec("UPDATE accounts SET balance = 8 WHERE id = 1");
  EXPECT_EQ(conn.Exec("SELECT balance FROM public.accounts WHERE id = 1").Int(0, 0), 8);
  conn.Exec("UPDATE public.accounts SET balance = 1 % 1000 WHERE id = 1");  // as it was

  // Every row was backfilled: the new column equals the old everywhere.
  pg::Rows mismatched = conn.Exec(
      "SELECT id, balance, _zd_new_balance FROM accounts WHERE _zd_new_balance IS DISTINCT FROM "
      "balance ORDER BY id LIMIT 5");
  EXPECT_TRUE(mismatched.empty()) << "first mismatch: id " << mismatched.Text(0, 0) << " balance "
                                  << mismatched.Text(0, 1) << " new " << mismatched.Text(0, 2);

  engine.Complete();
  std::this_thread::sleep_for(std::chrono::milliseconds(300));
  load.Stop();
  EXPECT_EQ(load.failed, 0) << load.last_error();
  EXPECT_GT(load.done, 100);

  auto table = pg::DescribeTable(conn, "public", "accounts");
  ASSERT_TRUE(table);
  ASSERT_EQ(table->columns.size(), 3u);
  const pg::ColumnInfo* balance = table->FindColumn("balance");
  ASSERT_NE(balance, nullptr);
  EXPECT_EQ(balance->type, "bigint");
  EXPECT_TRUE(balance->not_null);
  EXPECT_TRUE(table->triggers.empty());
  EXPECT_EQ(conn.Exec("SELECT sum(balance) FROM accounts WHERE id <= $1", {std::to_string(kRows)})
                .Int(0, 0),
            sum_before)
      << "every +1 was matched by a -1: no write was lost or doubled";
}

TEST(AlterColumnUnderLoadTest, RollbackLeavesCatalogAndRowsAsBefore) {
  constexpr int kRows = 5000;
  std::string db = SetUpAccounts(kRows);
  pg::Connection conn = testing::Connect(db);
  auto before = pg::DescribeTable(conn, "public", "accounts");
  SilentProgress progress;
  Engine engine(conn, testing::FastEngineOptions(), progress);
  auto record = engine.Start(Migration());
  pg::Connection new_app = testing::Connect(db);
  new_app.Exec("SELECT set_config('search_path', $1, false)", {record.plan.version_schema});
  new_app.Exec("UPDATE accounts SET balance = 999 WHERE id = 10");
  new_app.Exec("INSERT INTO accounts (id, balance) VALUES (900000, 5)");
  engine.Rollback();

  auto after = pg::DescribeTable(conn, "public", "accounts");
  ASSERT_TRUE(after);
  testing::ExpectSameColumns(*before, *after);
  if (HasFatalFailure()) return;
  EXPECT_TRUE(after->triggers.empty());
  EXPECT_TRUE(after->constraints.size() == before->constraints.size());
  EXPECT_FALSE(pg::SchemaExists(conn, record.plan.version_schema));
  EXPECT_EQ(conn.Exec("SELECT balance FROM accounts WHERE id = 10").Int(0, 0), 999)
      << "a write made through the new version survives rollback";
  EXPECT_EQ(conn.Exec("SELECT balance FROM accounts WHERE id = 900000").Int(0, 0), 5);
}

TEST(AlterColumnUnderLoadTest, BadInputFailsBeforeAnythingChanges) {
  std::string db = SetUpAccounts(10);
  pg::Connection conn = testing::Connect(db);
  SilentProgress progress;
  Engine engine(conn, testing::FastEngineOptions(), progress);
  auto bad = [&](const std::string& json) {
    return model::ParseMigration(json, model::Format::kJson, "bad.json").ValueOrThrow();
  };
  struct Case {
    std::string json;
    ErrorKind kind;
    std::string needle;
  };
  std::vector<Case> cases = {
      {R"({"operations":[{"alter_column":{"table":"nope","column":"balance","type":"bigint"}}]})",
       ErrorKind::kNotFound, "table \"nope\""},
      {R"({"operations":[{"alter_column":{"table":"accounts","column":"nope","type":"bigint"}}]})",
       ErrorKind::kNotFound, "column \"nope\""},
      {R"({"operations":[{"alter_column":{"table":"accounts","column":"balance","type":"bigintt"}}]})",
       ErrorKind::kNotFound, "type \"bigintt\""},
      {R"({"operations":[{"alter_column":{"table":"accounts","column":"balance","type":"bigint","up":"balance +* 1"}}]})",
       ErrorKind::kInvalidMigration, "does not compile"},
  };
  for (const auto& c : cases) {
    try {
      engine.Start(bad(c.json));
      ADD_FAILURE() << "expected an error for " << c.json;
    } catch (const Error& error) {
      EXPECT_EQ(error.kind(), c.kind) << error.Describe();
      EXPECT_NE(error.Describe().find(c.needle), std::string::npos) << error.Describe();
      EXPECT_NE(error.Describe().find("bad.json, operation 1 (alter_column)"), std::string::npos)
          << error.Describe();
    }
  }
  auto table = pg::DescribeTable(conn, "public", "accounts");
  EXPECT_EQ(table->columns.size(), 3u) << "nothing changed";
  EXPECT_FALSE(State(conn).Active("public").has_value());
}

}  // namespace
}  // namespace zerodown::engine
