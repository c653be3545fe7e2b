// The command line a user meets first, against a real server: help and version, `init` that is
// a no-op the second time, connection settings taken as psql takes them (URL or PG* variables),
// and the documented exit codes with a message that says what to fix.
#include <gtest/gtest.h>
#include <sys/wait.h>

#include <fstream>
#include <memory>

#include "support/database.hpp"
#include "zerodown/pg/catalog.hpp"

namespace zerodown {
namespace {

using testing::RunZerodown;

TEST(CliFoundationTest, HelpListsTheCommandsAndVersionPrints) {
  std::string out;
  EXPECT_EQ(RunZerodown("--help", &out), 0);
  for (const char* command :
       {"init", "lint", "plan", "start", "complete", "rollback", "migrate", "status", "demo"}) {
    EXPECT_NE(out.find(command), std::string::npos) << command << " missing from --help";
  }
  EXPECT_EQ(RunZerodown("--version", &out), 0);
  EXPECT_NE(out.find("zerodown "), std::string::npos);
  EXPECT_EQ(RunZerodown("start --help", &out), 0);
  EXPECT_NE(out.find("Examples:"), std::string::npos) << "each command's help teaches by example";
}

TEST(CliFoundationTest, InitTwiceIsANoOpTheSecondTime) {
  std::string db = testing::FreshDatabase();
  std::string out;
  EXPECT_EQ(RunZerodown("--postgres-url " + testing::Quoted(db) + " status", &out), 0);
  EXPECT_NE(out.find("zerodown init"), std::string::npos) << "status before init says what to do";
  ASSERT_EQ(RunZerodown("--postgres-url " + testing::Quoted(db) + " init", &out), 0) << out;
  EXPECT_NE(out.find("initialised"), std::string::npos) << out;
  pg::Connection conn = testing::Connect(db);
  auto tables_before = pg::ListTables(conn, "zerodown");
  EXPECT_EQ(tables_before, (std::vector<std::string>{"migrations", "state_version", "steps"}));
  ASSERT_EQ(RunZerodown("--postgres-url " + testing::Quoted(db) + " init", &out), 0) << out;
  EXPECT_NE(out.find("already initialised"), std::string::npos) << out;
  EXPECT_EQ(pg::ListTables(conn, "zerodown"), tables_before);
  EXPECT_EQ(RunZerodown("--postgres-url " + testing::Quoted(db) + " status", &out), 0);
  EXPECT_NE(out.find("no migration in progress"), std::string::npos) << out;
}

TEST(CliFoundationTest, PgEnvironmentVariablesWorkAsInPsql) {
  std::string db = testing::FreshDatabase();
  auto& cluster = testing::SharedCluster();
  std::string dbname = db.substr(db.find("dbname=") + 7);
  std::string env = "PGHOST=" + cluster.socket_dir() + " PGPORT=" + std::to_string(cluster.port()) +
                    " PGUSER=" + cluster.superuser() + " PGDATABASE=" + dbname + " ";
  std::string out;
  // RunZerodown prefixes the binary; the environment goes through `env`.
  EXPECT_EQ(RunZerodown("init", &out), 3) << "without settings there is no server: " << out;
  std::string command = "env " + env + ZERODOWN_BINARY + " init 2>&1";
  FILE* pipe = popen(command.c_str(), "r");
  ASSERT_NE(pipe, nullptr);
  char buffer[512];
  std::string text;
  while (fgets(buffer, sizeof buffer, pipe)) text += buffer;
  EXPECT_EQ(WEXITSTATUS(pclose(pipe)), 0) << text;
  EXPECT_TRUE(
      pg::SchemaExists(*std::make_unique<pg::Connection>(testing::Connect(db)), "zerodown"));
}

TEST(CliFoundationTest, ExitCodesAndMessagesForBadInput) {
  std::string db = testing::FreshDatabase();
  std::string out;
  EXPECT_EQ(RunZerodown("--postgres-url 'host=/nonexistent-zd port=1 dbname=x' status", &out), 3);
  EXPECT_NE(out.find("cannot connect"), std::string::npos) << out;
  EXPECT_NE(out.find("server is running"), std::string::npos) << out;

  std::string missing = db.substr(0, db.find("dbname=")) + "dbname=no_such_db";
  EXPECT_EQ(RunZerodown("--postgres-url " + testing::Quoted(missing) + " status", &out), 3);
  EXPECT_NE(out.find("Create the database"), std::string::npos) << out;

  EXPECT_EQ(RunZerodown("start", &out), 2) << "a missing argument is a usage error";
  EXPECT_EQ(RunZerodown("frobnicate", &out), 2);

  std::string file = ::testing::TempDir() + "/broken.yaml";
  std::ofstream(file) << "operations:\n  - alter_column: {table: t, column: [\n";
  ASSERT_EQ(RunZerodown("--postgres-url " + testing::Quoted(db) + " init", &out), 0);
  EXPECT_EQ(RunZerodown("--postgres-url " + testing::Quoted(db) + " start " + file, &out), 2);
  EXPECT_NE(out.find("broken.yaml"), std::string::npos) << "the error names the file: " << out;

  std::string unknown = ::testing::TempDir() + "/unknown_table.yaml";
  std::ofstream(unknown) << "operations:\n  - drop_column: {table: nope, column: c}\n";
  EXPECT_EQ(RunZerodown("--postgres-url " + testing::Quoted(db) + " start " + unknown, &out), 2);
  EXPECT_NE(out.find("unknown_table.yaml, operation 1 (drop_column)"), std::string::npos) << out;
  EXPECT_NE(out.find("table \"nope\" does not exist"), std::string::npos) << out;

  EXPECT_EQ(RunZerodown("--postgres-url " + testing::Quoted(db) + " complete", &out), 2);
  EXPECT_NE(out.find("no migration in progress"), std::string::npos) << out;
}

TEST(CliFoundationTest, SchemaNamesWithQuotesAndSpacesWork) {
  std::string db = testing::FreshDatabase();
  pg::Connection conn = testing::Connect(db);
  std::string schema = "shop \"eu\"";
  conn.Exec("CREATE SCHEMA " + conn.Ident(schema));
  conn.Exec("CREATE TABLE " + conn.Ident(schema, "orders") +
            " (id int PRIMARY KEY, total int NOT NULL)");
  conn.Exec("INSERT INTO " + conn.Ident(schema, "orders") +
            " SELECT g, g FROM generate_series(1, 100) g");
  std::string file = ::testing::TempDir() + "/total_bigint.yaml";
  std::ofstream(file) << "operations:\n  - alter_column: {table: orders, column: total, type: "
                         "bigint, up: total, down: total::integer}\n";
  std::string out;
  std::string base = "--postgres-url " + testing::Quoted(db) + " --schema 'shop \"eu\"' ";
  ASSERT_EQ(RunZerodown(base + "init", &out), 0) << out;
  ASSERT_EQ(RunZerodown(base + "start " + file, &out), 0) << out;
  EXPECT_NE(out.find("shop \"eu\"_total_bigint"), std::string::npos) << out;
  ASSERT_EQ(RunZerodown(base + "complete", &out), 0) << out;
  auto orders = pg::DescribeTable(conn, schema, "orders");
  ASSERT_TRUE(orders);
  EXPECT_EQ(orders->FindColumn("total")->type, "bigint");
  EXPECT_EQ(conn.Exec("SELECT sum(total) FROM " + conn.Ident(schema, "orders")).Int(0, 0), 5050);
}

}  // namespace
}  // namespace zerodown
