// `zerodown start FILE.sql` + `complete` must leave the catalog exactly as running the same SQL
// directly would, while the table is written to through the whole change.
#include <gtest/gtest.h>

#include <algorithm>
#include <atomic>
#include <fstream>
#include <thread>

#include "support/database.hpp"
#include "zerodown/pg/catalog.hpp"

namespace zerodown {
namespace {

constexpr const char* kSetup =
    "CREATE TABLE orders (id int PRIMARY KEY, qty int NOT NULL, ref text, note varchar(20));"
    "INSERT INTO orders SELECT g, g % 7, 'r' || g, 'n' FROM generate_series(1, 20000) g;";

// One statement per entry: CREATE INDEX CONCURRENTLY refuses the implicit transaction of a
// multi-statement query, so the plain run sends them one by one.
const std::vector<std::string> kMigration = {
    "SET lock_timeout = '1s'",
    "ALTER TABLE orders ALTER COLUMN qty TYPE bigint USING qty::bigint",
    "ALTER TABLE orders ADD COLUMN status text NOT NULL DEFAULT 'new', "
    "ALTER COLUMN note SET DEFAULT 'none'",
    "CREATE INDEX CONCURRENTLY orders_ref ON orders (ref) WHERE ref IS NOT NULL",
    "ALTER TABLE orders RENAME COLUMN note TO remark",
    "CREATE TABLE audit (id bigint PRIMARY KEY, at timestamptz NOT NULL DEFAULT now())",
};

// Columns by name (an online type change moves the column to the end of the table) with type,
// nullability and default; indexes by name with definition and validity.
std::vector<std::string> Shape(pg::Connection& conn, const std::string& table) {
  auto info = pg::DescribeTable(conn, "public", table);
  std::vector<std::string> shape;
  if (!info) return shape;
  for (const auto& c : info->columns) {
    shape.push_back("column " + c.name + " " + c.type + (c.not_null ? " not null" : "") +
                    " default " + c.default_expr.value_or("-"));
  }
  for (const auto& i : info->indexes) {
    shape.push_back("index " + i.definition + (i.valid ? "" : " INVALID"));
  }
  for (const auto& c : info->constraints) shape.push_back("constraint " + c.definition);
  shape.push_back("triggers " + std::to_string(info->triggers.size()));
  std::sort(shape.begin(), shape.end());
  return shape;
}

TEST(SqlStartMatchesPlainSqlTest, CatalogEqualsThePlainSqlAndNoWriteFails) {
  std::string plain_db = testing::FreshDatabase();
  pg::Connection plain = testing::Connect(plain_db);
  plain.Run(kSetup);
  for (const auto& statement : kMigration) plain.Run(statement);

  std::string db = plain_db + "_zd";
  {
    pg::Connection admin = testing::Connect(testing::SharedCluster().ConnInfo("postgres"));
    std::string name = db.substr(db.find("dbname=") + 7);
    admin.Exec("DROP DATABASE IF EXISTS " + admin.Ident(name));
    db = testing::SharedCluster().CreateDatabase(name);
  }
  pg::Connection conn = testing::Connect(db);
  conn.Run(kSetup);
  std::string file = ::testing::TempDir() + "/005_orders.sql";
  std::ofstream out_file(file);
  for (const auto& statement : kMigration) out_file << statement << ";\n";
  out_file.close();

  std::atomic<bool> stop{false};
  std::atomic<int> failed{0}, done{0};
  std::thread writer([&] {
    pg::Connection app = testing::Connect(db);
    for (int i = 0; !stop; ++i) {
      auto result =
          app.TryExec("UPDATE orders SET ref = ref WHERE id = $1", {std::to_string(1 + i % 20000)});
      result.ok() ? ++done : ++failed;
    }
  });
  std::string out;
  std::string base = "--postgres-url '" + db + "' ";
  ASSERT_EQ(testing::RunZerodown(base + "init", &out), 0) << out;
  ASSERT_EQ(testing::RunZerodown(base + "start --chunk-time 20 " + file, &out), 0) << out;
  ASSERT_EQ(testing::RunZerodown(base + "complete", &out), 0) << out;
  stop = true;
  writer.join();
  EXPECT_EQ(failed, 0);
  EXPECT_GT(done, 0);

  for (const char* table : {"orders", "audit"}) {
    EXPECT_EQ(Shape(conn, table), Shape(plain, table)) << table;
  }
  EXPECT_EQ(
      conn.Exec("SELECT sum(qty), count(*) FILTER (WHERE status = 'new') FROM orders").Text(0, 0),
      plain.Exec("SELECT sum(qty), count(*) FILTER (WHERE status = 'new') FROM orders").Text(0, 0));
}

}  // namespace
}  // namespace zerodown
