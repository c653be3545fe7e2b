// The libpq layer against a real server: values travel as parameters, identifiers are quoted by
// libpq, errors keep their SQLSTATE, connection failures say what to fix, and a second
// connection opened from a first reaches the same database as the same user.
#include <gtest/gtest.h>

#include "support/database.hpp"
#include "zerodown/pg/advisory_lock.hpp"
#include "zerodown/pg/catalog.hpp"
#include "zerodown/pg/connection.hpp"

namespace zerodown::pg {
namespace {

using testing::Connect;
using testing::FreshDatabase;

TEST(PgLayerTest, ParametersCarryHostileValuesVerbatim) {
  Connection conn = Connect(FreshDatabase());
  std::string hostile = "'); DROP TABLE x; --";
  Rows rows = conn.Exec("SELECT $1::text, $2::text IS NULL", {hostile, std::nullopt});
  EXPECT_EQ(rows.Text(0, 0), hostile);
  EXPECT_TRUE(rows.Bool(0, 1));
}

TEST(PgLayerTest, IdentifiersWithQuotesAndSpacesRoundTrip) {
  Connection conn = Connect(FreshDatabase());
  std::string schema = "we\"ird sch ema";
  std::string table = "Mixed Case\"table";
  conn.Exec("CREATE SCHEMA " + conn.Ident(schema));
  conn.Exec("CREATE TABLE " + conn.Ident(schema, table) + " (id int PRIMARY KEY, \"v a\" text)");
  auto info = DescribeTable(conn, schema, table);
  ASSERT_TRUE(info.has_value());
  ASSERT_EQ(info->columns.size(), 2u);
  EXPECT_EQ(info->columns[1].name, "v a");
  EXPECT_EQ(info->primary_key, std::vector<std::string>{"id"});
}

TEST(PgLayerTest, AnotherConnectionReachesTheSameDatabaseWithItsOwnName) {
  std::string db = FreshDatabase();
  Connection conn = Connect(db);
  conn.Exec("CREATE TABLE seen (v int)");
  Connection other = conn.OpenAnother("zerodown-other");
  EXPECT_NE(other.BackendPid(), conn.BackendPid());
  EXPECT_EQ(other.Database(), conn.Database());
  other.Exec("INSERT INTO seen VALUES (7)");
  EXPECT_EQ(conn.Exec("SELECT v FROM seen").Int(0, 0), 7);
  EXPECT_EQ(conn.Exec("SELECT application_name FROM pg_stat_activity WHERE pid = $1",
                      {std::to_string(other.BackendPid())})
                .Text(0, 0),
            "zerodown-other");
  EXPECT_EQ(other.Exec("SELECT current_user").Text(0, 0),
            conn.Exec("SELECT current_user").Text(0, 0));
}

TEST(PgLayerTest, ErrorsKeepSqlstateAndTheStatement) {
  Connection conn = Connect(FreshDatabase());
  try {
    conn.Exec("SELECT * FROM no_such_table");
    FAIL() << "expected an error";
  } catch (const Error& error) {
    EXPECT_EQ(error.sqlstate(), kUndefinedTable);
    EXPECT_EQ(error.kind(), ErrorKind::kDatabase);
    EXPECT_NE(error.Describe().find("no_such_table"), std::string::npos);
  }
}

TEST(PgLayerTest, APreparedStatementIsMadeOnceAndKeepsItsGenericPlan) {
  Connection conn = Connect(FreshDatabase());
  conn.Exec("CREATE TABLE t (id int PRIMARY KEY)");
  conn.Exec("INSERT INTO t SELECT generate_series(1, 10)");
  const std::string read = "SELECT count(*) FROM t WHERE id <= $1";
  conn.Exec("SET plan_cache_mode = force_generic_plan");
  EXPECT_EQ(conn.ExecPrepared(read, {"3"}).Int(0, 0), 3);
  EXPECT_EQ(conn.ExecPrepared(read, {"7"}).Int(0, 0), 7) << "new values, the same statement";
  Rows made = conn.Exec(
      "SELECT count(*), sum(generic_plans), sum(custom_plans) FROM pg_prepared_statements");
  EXPECT_EQ(made.Int(0, 0), 1) << "prepared once";
  EXPECT_EQ(made.Int(0, 1), 2) << "planned once and run twice";
  EXPECT_EQ(made.Int(0, 2), 0);
  try {
    conn.ExecPrepared("SELECT * FROM no_such_table WHERE id = $1", {"1"});
    FAIL() << "expected an error";
  } catch (const Error& error) {
    EXPECT_EQ(error.sqlstate(), kUndefinedTable);
    EXPECT_NE(error.Describe().find("no_such_table"), std::string::npos);
  }
  EXPECT_EQ(conn.ExecPrepared(read, {"10"}).Int(0, 0), 10) << "a failed prepare leaves the others";
}

TEST(PgLayerTest, UnreachableServerIsAConnectionErrorWithAFix) {
  try {
    Connection::Open("host=/nonexistent-dir port=1 dbname=x connect_timeout=2");
    FAIL() << "expected an error";
  } catch (const Error& error) {
    EXPECT_EQ(error.kind(), ErrorKind::kConnection);
    EXPECT_EQ(ExitCode(error.kind()), 3);
    EXPECT_NE(error.fix().find("server is running"), std::string::npos) << error.Describe();
  }
}

TEST(PgLayerTest, MissingDatabaseNamesTheFix) {
  auto& cluster = testing::SharedCluster();
  try {
    Connection::Open(cluster.ConnInfo("no_such_database"));
    FAIL() << "expected an error";
  } catch (const Error& error) {
    EXPECT_EQ(error.kind(), ErrorKind::kConnection);
    EXPECT_NE(error.fix().find("Create the database"), std::string::npos) << error.Describe();
  }
}

TEST(PgLayerTest, CatalogSeesConstraintsIndexesAndInvalidIndexes) {
  Connection conn = Connect(FreshDatabase());
  conn.Run(
      "CREATE TABLE parent (id bigint PRIMARY KEY);"
      "CREATE TABLE child (id serial PRIMARY KEY, parent_id bigint REFERENCES parent, "
      "  qty int CHECK (qty > 0) NOT NULL DEFAULT 1, code text UNIQUE);"
      "CREATE INDEX child_qty ON child (qty);"
      "UPDATE pg_index SET indisvalid = false WHERE indexrelid = 'child_qty'::regclass;");
  auto child = DescribeTable(conn, "public", "child");
  ASSERT_TRUE(child.has_value());
  const ColumnInfo* qty = child->FindColumn("qty");
  ASSERT_NE(qty, nullptr);
  EXPECT_TRUE(qty->not_null);
  EXPECT_EQ(qty->type, "integer");
  EXPECT_EQ(qty->default_expr.value_or(""), "1");
  int fks = 0, checks = 0, uniques = 0;
  for (const auto& c : child->constraints) {
    fks += c.type == 'f';
    checks += c.type == 'c';
    uniques += c.type == 'u';
  }
  EXPECT_EQ(fks, 1);
  EXPECT_EQ(checks, 1);
  EXPECT_EQ(uniques, 1);
  const IndexInfo* index = child->FindIndex("child_qty");
  ASSERT_NE(index, nullptr);
  EXPECT_FALSE(index->valid);
  EXPECT_EQ(IndexIsValid(conn, "public", "child_qty"), std::optional<bool>(false));
  EXPECT_EQ(OwnedSequences(conn, "public", "child").size(), 1u);
  EXPECT_FALSE(DescribeTable(conn, "public", "nope").has_value());
  EXPECT_TRUE(CanonicalType(conn, "bigint").has_value());
  EXPECT_FALSE(CanonicalType(conn, "bigintt").has_value());
}

TEST(AdvisoryLockTest, ASecondRunOnTheSameSchemaRefusesWithoutWaiting) {
  std::string db = FreshDatabase();
  Connection first = Connect(db);
  Connection second = Connect(db);
  AdvisoryLock held(first, "public", /*wait=*/false);
  try {
    AdvisoryLock refused(second, "public", /*wait=*/false);
    FAIL() << "two runs must not interleave";
  } catch (const Error& error) {
    EXPECT_EQ(error.kind(), ErrorKind::kConflict);
    EXPECT_NE(error.message().find(std::to_string(first.BackendPid())), std::string::npos)
        << error.Describe();
  }
  AdvisoryLock other_schema(second, "billing", /*wait=*/false);  // other scopes are independent
  held.Release();
  other_schema.Release();
  AdvisoryLock after_release(second, "public", /*wait=*/false);
}

}  // namespace
}  // namespace zerodown::pg
