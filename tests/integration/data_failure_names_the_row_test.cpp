// When the rows already in a table make a migration impossible, `zerodown start` exits 2 with
// one paragraph naming the operation, the table, the column, the key of the first failing row
// and its value (or two rows that share a value), and the database is as it was: found before
// the first change where a read-only statement can (NOT NULL, check, unique), named after the
// fill failed otherwise (a value `up` cannot convert), in place and by shadow copy.
#include <gtest/gtest.h>

#include <fstream>
#include <string>
#include <vector>

#include "support/catalog_checks.hpp"
#include "support/database.hpp"
#include "zerodown/engine/state.hpp"

namespace zerodown::engine {
namespace {

struct Refusal {
  std::string setup;                  // SQL that creates and fills the table
  std::string operations;             // the migration's operations, JSON
  std::string mechanism;              // "", "inplace" or "shadow"
  std::vector<std::string> expected;  // what the message must say
};

std::string MigrationFile(const std::string& name, const std::string& operations) {
  std::string path = ::testing::TempDir() + "/" + name + ".json";
  std::ofstream(path) << R"zd({"name": ")zd" << name << R"zd(", "operations": [)zd" << operations
                      << "]}";
  return path;
}

// Runs start, expects exit 2 with every expected piece in the message and the database exactly
// as before; returns the output.
std::string ExpectRefused(const Refusal& refusal) {
  std::string db = testing::FreshDatabase();
  pg::Connection conn = testing::Connect(db);
  conn.Run(refusal.setup);
  State(conn).Init();
  testing::Snapshot before = testing::TakeSnapshot(db);
  std::string file = MigrationFile("m1", refusal.operations);
  std::string args = "--postgres-url " + testing::Quoted(db) + " start " +
                     (refusal.mechanism.empty() ? "" : "--mechanism " + refusal.mechanism + " ") +
                     file;
  std::string out;
  EXPECT_EQ(testing::RunZerodown(args, &out), 2) << out;
  for (const auto& piece : refusal.expected) {
    EXPECT_NE(out.find(piece), std::string::npos) << "missing `" << piece << "` in:\n" << out;
  }
  EXPECT_NE(out.find("m1.json, operation 1 ("), std::string::npos) << out;
  testing::ExpectSameSnapshot(before, testing::TakeSnapshot(db));
  EXPECT_EQ(conn.Exec("SELECT phase FROM zerodown.migrations WHERE name = 'm1'").Text(0, 0),
            "rolled_back");
  return out;
}

constexpr const char* kCodes =
    "CREATE TABLE items (id int PRIMARY KEY, code text, note text);"
    "INSERT INTO items SELECT g, g::text, 'n' || g FROM generate_series(1, 3000) g;"
    "UPDATE items SET code = 'abc' WHERE id = 2345;";

constexpr const char* kToInteger =
    R"zd({"alter_column": {"table": "items", "column": "code", "type": "integer",)zd"
    R"zd( "up": "CAST(code AS integer)", "down": "CAST(code AS text)"}})zd";

TEST(DataFailureNamesTheRowTest, ValueUpCannotConvertInPlace) {
  std::string out =
      ExpectRefused({kCodes,
                     kToInteger,
                     "inplace",
                     {"alter_column", "table \"items\"", "column \"code\"", "id = 2345", "'abc'",
                      "invalid input syntax", "rolled back what it did"}});
  EXPECT_EQ(out.find("id = 2346"), std::string::npos) << out;
}

TEST(DataFailureNamesTheRowTest, ValueUpCannotConvertInShadowCopy) {
  ExpectRefused({kCodes,
                 kToInteger,
                 "shadow",
                 {"alter_column", "table \"items\"", "column \"code\"", "id = 2345", "'abc'",
                  "invalid input syntax", "rolled back what it did"}});
}

TEST(DataFailureNamesTheRowTest, DivisionByZeroInUp) {
  ExpectRefused(
      {"CREATE TABLE lines (id bigint PRIMARY KEY, total int, qty int);"
       "INSERT INTO lines SELECT g, g * 10, 1 + g % 7 FROM generate_series(1, 500) g;"
       "UPDATE lines SET qty = 0 WHERE id = 77;",
       R"zd({"alter_column": {"table": "lines", "column": "total", "type": "numeric",)zd"
       R"zd( "up": "total / qty", "down": "CAST(total AS integer)"}})zd",
       "",
       {"table \"lines\"", "column \"total\"", "id = 77", "'770'", "division by zero"}});
}

TEST(DataFailureNamesTheRowTest, NullWhereNotNullIsAskedFoundBeforeAnyChange) {
  std::string out =
      ExpectRefused({"CREATE TABLE people (id int PRIMARY KEY, email text);"
                     "INSERT INTO people SELECT g, 'p' || g || '@x' FROM generate_series(1, 400) "
                     "g;"
                     "UPDATE people SET email = NULL WHERE id IN (123, 321);",
                     R"zd({"alter_column": {"table": "people", "column": "email",)zd"
                     R"zd( "nullable": false}})zd",
                     "",
                     {"table \"people\"", "column \"email\"", "id = 123", "NOT NULL",
                      "COALESCE(email", "before changing anything"}});
  EXPECT_EQ(out.find("id = 321"), std::string::npos) << "the first row in key order: " << out;
}

TEST(DataFailureNamesTheRowTest, AlterColumnCheckBrokenByARow) {
  ExpectRefused(
      {"CREATE TABLE prices (id int PRIMARY KEY, price int);"
       "INSERT INTO prices SELECT g, g FROM generate_series(1, 400) g;"
       "UPDATE prices SET price = -5 WHERE id = 8;",
       R"zd({"alter_column": {"table": "prices", "column": "price", "check":)zd"
       R"zd( {"name": "price_positive", "constraint": "price > 0"},)zd"
       R"zd( "up": "price", "down": "price"}})zd",
       "",
       {"table \"prices\"", "column \"price\"", "id = 8", "price_positive", "\"price\" = '-5'",
        "before changing anything"}});
}

TEST(DataFailureNamesTheRowTest, AlterColumnUniqueBrokenByTwoRows) {
  ExpectRefused(
      {"CREATE TABLE users (id int PRIMARY KEY, login text);"
       "INSERT INTO users SELECT g, 'u' || g FROM generate_series(1, 400) g;"
       "UPDATE users SET login = 'u3' WHERE id = 250;",
       R"zd({"alter_column": {"table": "users", "column": "login", "unique":)zd"
       R"zd( {"name": "users_login_key"}, "up": "login", "down": "login"}})zd",
       "",
       {"table \"users\"", "column \"login\"", "rows id = 3 and id = 250", "'u3'",
        "users_login_key", "before changing anything"}});
}

TEST(DataFailureNamesTheRowTest, CreateConstraintCheckBrokenByARow) {
  ExpectRefused(
      {"CREATE TABLE stock (id int PRIMARY KEY, qty int, cap int);"
       "INSERT INTO stock SELECT g, g % 10, 10 FROM generate_series(1, 400) g;"
       "UPDATE stock SET qty = 11 WHERE id = 99;",
       R"zd({"create_constraint": {"table": "stock", "name": "qty_under_cap",)zd"
       R"zd( "type": "check", "columns": ["qty"], "check": "qty <= 10",)zd"
       R"zd( "up": {"qty": "qty"}, "down": {"qty": "qty"}}})zd",
       "",
       {"create_constraint", "table \"stock\"", "column \"qty\"", "id = 99", "qty_under_cap",
        "'11'", "before changing anything"}});
}

TEST(DataFailureNamesTheRowTest, CreateConstraintUniqueBrokenByTwoRows) {
  ExpectRefused(
      {"CREATE TABLE members (org int, id int, team int, email text, PRIMARY KEY (org, id));"
       "INSERT INTO members SELECT 1, g, g % 5, 'm' || g FROM generate_series(1, 400) g;"
       "UPDATE members SET email = 'm10' WHERE id = 310;",
       R"zd({"create_constraint": {"table": "members", "name": "members_team_email",)zd"
       R"zd( "type": "unique", "columns": ["team", "email"],)zd"
       R"zd( "up": {"team": "team", "email": "email"}, "down": {"team": "team", "email": "email"}}})zd",
       "",
       {"create_constraint", "table \"members\", columns \"team\", \"email\"",
        "(org, id) = (1, 10)", "(org, id) = (1, 310)", "\"email\" = 'm10'", "members_team_email"}});
}

TEST(DataFailureNamesTheRowTest, UniqueBrokenByTwoRowsInShadowCopy) {
  ExpectRefused(
      {"CREATE TABLE users (id int PRIMARY KEY, login text);"
       "INSERT INTO users SELECT g, 'u' || g FROM generate_series(1, 400) g;"
       "UPDATE users SET login = 'u3' WHERE id = 250;",
       R"zd({"alter_column": {"table": "users", "column": "login", "unique":)zd"
       R"zd( {"name": "users_login_key"}, "up": "login", "down": "login"}})zd",
       "shadow",
       {"table \"users\"", "rows id = 3 and id = 250", "users_login_key"}});
}

TEST(DataFailureNamesTheRowTest, PlanSaysWhichChecksScanTheTable) {
  std::string db = testing::FreshDatabase();
  pg::Connection conn = testing::Connect(db);
  conn.Run("CREATE TABLE people (id int PRIMARY KEY, email text)");
  State(conn).Init();
  std::string file = MigrationFile(
      "m2", R"zd({"alter_column": {"table": "people", "column": "email", "nullable": false}})zd");
  std::string out;
  ASSERT_EQ(testing::RunZerodown("--postgres-url " + testing::Quoted(db) + " plan " + file, &out),
            0)
      << out;
  EXPECT_NE(out.find("before the first change, check that up leaves no row's email NULL (one "
                     "read-only scan of people"),
            std::string::npos)
      << out;
}

TEST(DataFailureNamesTheRowTest, StartSucceedsOnceTheRowIsFixed) {
  std::string db = testing::FreshDatabase();
  pg::Connection conn = testing::Connect(db);
  conn.Run(kCodes);
  State(conn).Init();
  std::string file = MigrationFile("m3", kToInteger);
  std::string start = "--postgres-url " + testing::Quoted(db) + " start " + file;
  std::string out;
  ASSERT_EQ(testing::RunZerodown(start, &out), 2) << out;
  conn.Run("UPDATE items SET code = '2345' WHERE id = 2345");
  EXPECT_EQ(testing::RunZerodown(start, &out), 0) << out;
}

}  // namespace
}  // namespace zerodown::engine
