// rebuild_table with column changes on a real server: three columns change in one copy of the
// table (a type, a type with a unit change through up/down, a type with NOT NULL) while the old
// and the new application version both write; 0 failed transactions, verify finds every copy
// equal to up(old row), each version reads its own units, and rollback after the swap keeps
// every write of both. Through the command line, `alter` (ALTER TABLE clauses) runs the same
// change to complete, and a clause a rebuild cannot make is refused before anything changes.
#include <gtest/gtest.h>

#include <fstream>
#include <memory>
#include <thread>

#include "support/catalog_checks.hpp"
#include "support/database.hpp"
#include "support/migrations.hpp"
#include "support/two_versions.hpp"
#include "support/writers.hpp"
#include "zerodown/engine/engine.hpp"
#include "zerodown/engine/state.hpp"
#include "zerodown/pg/catalog.hpp"
#include "zerodown/verify/verify.hpp"

namespace zerodown::engine {
namespace {

constexpr int kRows = 60000;

std::string SetUpOrders(int rows) {
  std::string db = testing::FreshDatabase();
  pg::Connection conn = testing::Connect(db);
  conn.Run(fmt::format(
      "CREATE TABLE orders (id int PRIMARY KEY, qty int NOT NULL, price numeric(10,2) NOT NULL, "
      "note varchar(20));"
      "INSERT INTO orders SELECT g, g % 50, (g % 1000) / 4.0, CASE WHEN g % 3 = 0 THEN NULL "
      "ELSE 'n' || g END FROM generate_series(1, {}) g;"
      "ANALYZE orders;",
      rows));
  State(conn).Init();
  return db;
}

// qty int -> bigint; price numeric(10,2) in units -> bigint in cents for the new version; note
// varchar(20) -> text NOT NULL ('' for the rows that had none).
model::Migration ThreeColumns() {
  return testing::ParseOperations("orders_rebuild", R"j({"rebuild_table": {
      "table": "orders",
      "columns": [
        {"column": "qty", "type": "bigint"},
        {"column": "price", "type": "bigint", "up": "(price * 100)::bigint",
         "down": "(price / 100.0)::numeric(10,2)"},
        {"column": "note", "type": "text", "nullable": false, "up": "coalesce(note, '')",
         "down": "note"}]}})j");
}

int CountKind(const std::vector<Action>& actions, ActionKind kind) {
  int n = 0;
  for (const auto& a : actions) n += a.kind == kind ? 1 : 0;
  return n;
}

TEST(RebuildColumnsTest, ThreeColumnsInOneCopyWhileBothVersionsWrite) {
  std::string db = SetUpOrders(kRows);
  pg::Connection conn = testing::Connect(db);
  auto before = pg::DescribeTable(conn, "public", "orders");
  std::string sums_before =
      conn.Exec("SELECT sum(qty) || '|' || sum(price) FROM orders").Text(0, 0);

  // The old version moves qty and price (in units) up and back; sums end where they began.
  auto old_app =
      std::make_unique<testing::Writers>(db, 4, [](pg::Connection& c, int client, std::uint64_t n) {
        std::string id = std::to_string(1 + (client * 7919 + n * 104729) % kRows);
        c.Exec("BEGIN");
        c.Exec("UPDATE orders SET qty = qty + 1, price = price + 1 WHERE id = $1", {id});
        c.Exec("UPDATE orders SET qty = qty - 1, price = price - 1 WHERE id = $1", {id});
        c.Exec("COMMIT");
      });
  std::this_thread::sleep_for(std::chrono::milliseconds(300));
  SilentProgress progress;
  Engine engine(conn, testing::FastEngineOptions(), progress);
  Plan plan = engine.PlanOnly(ThreeColumns());
  EXPECT_EQ(CountKind(plan.start, ActionKind::kShadowCopy), 1) << "one copy for three columns";
  auto record = engine.Start(ThreeColumns());
  ASSERT_EQ(record.phase, zerodown::engine::MigrationPhase::kActive);

  // From the swap on, the new version writes cents and adds orders of its own.
  std::string version = record.plan.version_schema;
  auto new_app = std::make_unique<testing::Writers>(
      db, 2, [version](pg::Connection& c, int client, std::uint64_t n) {
        std::string id = std::to_string(1 + (client * 104729 + n * 7919) % kRows);
        c.Exec("BEGIN");
        c.Exec("SELECT set_config('search_path', $1, true)", {version});
        c.Exec("UPDATE orders SET price = price + 100, qty = qty + 7 WHERE id = $1", {id});
        c.Exec("UPDATE orders SET price = price - 100, qty = qty - 7 WHERE id = $1", {id});
        c.Exec("COMMIT");
      });
  std::this_thread::sleep_for(std::chrono::milliseconds(1500));
  old_app->Stop();
  new_app->Stop();
  EXPECT_EQ(old_app->failed, 0) << old_app->last_error();
  EXPECT_EQ(new_app->failed, 0) << new_app->last_error();
  EXPECT_GT(old_app->done, 20);
  EXPECT_GT(new_app->done, 20);

  ASSERT_EQ(record.plan.checks.size(), 3u) << "one verify check per changed column";
  for (const ColumnCheck& check : record.plan.checks) {
    verify::VerifyReport report = verify::CompareRows(
        conn, {check.description, check.schema, check.table, check.key_columns, check.select_sql},
        {});
    EXPECT_TRUE(report.ok()) << verify::Render(report);
    EXPECT_EQ(report.rows_checked, kRows) << check.description;
  }
  EXPECT_EQ(conn.Exec("SELECT sum(qty) || '|' || sum(price) FROM orders").Text(0, 0), sums_before);

  testing::Versions apps(db, version);
  apps.Run(
      {{testing::kNew, "SELECT price, note FROM orders WHERE id = 6", "150|"},
       {testing::kOld, "SELECT price, note FROM orders WHERE id = 6", "1.50|NULL"},
       {testing::kNew, "INSERT INTO orders (id, qty, price, note) VALUES (900001, 1, 250, 'x')"},
       {testing::kOld, "SELECT price FROM orders WHERE id = 900001", "2.50"},
       {testing::kOld, "INSERT INTO orders (id, qty, price) VALUES (900002, 1, 0.5)"},
       {testing::kNew, "SELECT price, note FROM orders WHERE id = 900002", "50|"},
       {testing::kOld, "UPDATE orders SET price = 9.99 WHERE id = 7"}},
      "after the swap");

  engine.Rollback();
  auto after = pg::DescribeTable(conn, "public", "orders");
  ASSERT_TRUE(after);
  testing::ExpectSameColumns(*before, *after);
  EXPECT_EQ(conn.Exec("SELECT price FROM orders WHERE id = 900001").Text(0, 0), "2.50");
  EXPECT_EQ(conn.Exec("SELECT price FROM orders WHERE id = 7").Text(0, 0), "9.99");
  EXPECT_EQ(conn.Exec("SELECT count(*) FROM orders").Int(0, 0), kRows + 2);
  EXPECT_EQ(conn.Exec("SELECT count(*) FROM pg_class WHERE relname LIKE '\\_zd\\_%' AND "
                      "relpersistence <> 't'")
                .Int(0, 0),
            0)
      << "nothing of the copy is left";
}

TEST(RebuildColumnsTest, AlterClausesThroughTheCommandLineRunToComplete) {
  std::string db = SetUpOrders(2000);
  pg::Connection conn = testing::Connect(db);
  std::string base = "--postgres-url " + testing::Quoted(db) + " ";
  std::string out;

  std::string refused = ::testing::TempDir() + "/rebuild_add.yaml";
  std::ofstream(refused) << "operations:\n  - rebuild_table:\n      table: orders\n"
                            "      alter: ALTER COLUMN qty TYPE bigint, ADD COLUMN extra int\n";
  EXPECT_EQ(testing::RunZerodown(base + "start " + refused, &out), 2) << out;
  EXPECT_NE(out.find("rebuild_add.yaml, operation 1 (rebuild_table), field alter"),
            std::string::npos)
      << out;
  EXPECT_NE(out.find("add_column"), std::string::npos) << "the fix names the operation: " << out;
  EXPECT_EQ(conn.Exec("SELECT count(*) FROM zerodown.migrations").Int(0, 0), 0)
      << "nothing started";

  std::string file = ::testing::TempDir() + "/rebuild_alter.yaml";
  std::ofstream(file) << "operations:\n  - rebuild_table:\n      table: orders\n"
                         "      alter: >-\n"
                         "        ALTER COLUMN qty TYPE bigint,\n"
                         "        ALTER COLUMN price TYPE bigint USING (price * 100)::bigint,\n"
                         "        ALTER COLUMN note TYPE text, ALTER COLUMN note SET DEFAULT ''\n";
  ASSERT_EQ(testing::RunZerodown(base + "plan " + file, &out), 0) << out;
  EXPECT_NE(out.find("shadow copy (rebuild_table)"), std::string::npos) << out;
  ASSERT_EQ(testing::RunZerodown(base + "start " + file, &out), 0) << out;
  ASSERT_EQ(testing::RunZerodown(base + "complete", &out), 0) << out;
  auto table = pg::DescribeTable(conn, "public", "orders");
  ASSERT_TRUE(table);
  EXPECT_EQ(table->FindColumn("qty")->type, "bigint");
  EXPECT_EQ(table->FindColumn("price")->type, "bigint");
  EXPECT_EQ(table->FindColumn("note")->type, "text");
  EXPECT_EQ(conn.Exec("SELECT price FROM orders WHERE id = 6").Text(0, 0), "150");
  conn.Exec("INSERT INTO orders (id, qty, price) VALUES (5000, 1, 1)");
  EXPECT_EQ(conn.Exec("SELECT note FROM orders WHERE id = 5000").Text(0, 0), "");
}

}  // namespace
}  // namespace zerodown::engine
