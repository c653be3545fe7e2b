#include "zerodown/sql/sql_down.hpp"

#include <gtest/gtest.h>

namespace zerodown::sql {
namespace {

model::Migration WithSql(std::vector<model::RawSql> ops) {
  model::Migration migration;
  migration.name = "m";
  migration.source = "m.yaml";
  for (auto& op : ops) migration.operations.emplace_back(std::move(op));
  return migration;
}

std::optional<std::string> InferredDown(const std::string& up) {
  model::Migration m = WithSql({{up, std::nullopt, false}});
  Status s = InferSqlDowns(m);
  EXPECT_TRUE(s.ok()) << s.error().Describe();
  return std::get<model::RawSql>(m.operations[0]).down;
}

TEST(SqlDownTest, EachCreateIsUndoneByItsDropInReverseOrder) {
  EXPECT_EQ(InferredDown("CREATE TYPE fruit_size AS ENUM ('small', 'large')"),
            "DROP TYPE fruit_size;\n");
  EXPECT_EQ(InferredDown("CREATE TABLE s.\"Users\" (id int); CREATE INDEX users_id ON s.\"Users\" "
                         "(id); CREATE SEQUENCE n; CREATE VIEW v AS SELECT 1"),
            "DROP VIEW v;\nDROP SEQUENCE n;\nDROP INDEX s.users_id;\nDROP TABLE s.\"Users\";\n");
  EXPECT_EQ(InferredDown("CREATE INDEX CONCURRENTLY i ON t (a)"), "DROP INDEX CONCURRENTLY i;\n");
  EXPECT_EQ(
      InferredDown("CREATE DOMAIN positive AS int CHECK (VALUE > 0); CREATE SCHEMA sc; "
                   "CREATE MATERIALIZED VIEW mv AS SELECT 1; CREATE TYPE pair AS (a int)"),
      "DROP TYPE pair;\nDROP MATERIALIZED VIEW mv;\nDROP SCHEMA sc;\nDROP DOMAIN positive;\n");
  EXPECT_EQ(InferredDown("ALTER TABLE people ADD COLUMN born date, ADD CONSTRAINT born_past CHECK "
                         "(born < now())"),
            "ALTER TABLE people DROP CONSTRAINT born_past, DROP COLUMN born;\n");
}

TEST(SqlDownTest, WhatCannotBeUndoneStaysAndIsNamedWithItsReason) {
  model::Migration m = WithSql({
      {"CREATE TABLE IF NOT EXISTS t (id int)", std::nullopt, false},
      {"CREATE TABLE a (id int); CREATE FUNCTION f() RETURNS int LANGUAGE sql AS 'SELECT 1'",
       std::nullopt, false},
      {"UPDATE t SET id = 1", std::nullopt, false},
      {"ALTER TABLE t ALTER COLUMN id SET DEFAULT 1", std::nullopt, false},
  });
  ASSERT_TRUE(InferSqlDowns(m).ok());
  for (const auto& op : m.operations) EXPECT_FALSE(std::get<model::RawSql>(op).down);
  std::vector<LeftBehind> left = SqlLeftBehind(m);
  ASSERT_EQ(left.size(), 5u);
  EXPECT_EQ(left[0].operation, 1u);
  EXPECT_NE(left[0].reason.find("IF NOT EXISTS"), std::string::npos);
  // The CREATE TABLE of operation 2 could be dropped, but not without the function.
  EXPECT_EQ(left[1].statement, "CREATE TABLE a (id int)");
  EXPECT_NE(left[1].reason.find("CREATE FUNCTION f()"), std::string::npos) << left[1].reason;
  EXPECT_EQ(left[3].operation, 3u);
  EXPECT_NE(DescribeLeftBehind(left).find(
                "  operation 4 (sql): `ALTER TABLE t ALTER COLUMN id SET DEFAULT 1` (this ALTER"),
            std::string::npos)
      << DescribeLeftBehind(left);
}

TEST(SqlDownTest, AGivenDownAndAnOnCompleteOperationAreLeftAlone) {
  model::Migration m = WithSql({{"CREATE TABLE a (id int)", "DROP TABLE a CASCADE", false},
                                {"CREATE TABLE b (id int)", std::nullopt, true}});
  ASSERT_TRUE(InferSqlDowns(m).ok());
  EXPECT_EQ(std::get<model::RawSql>(m.operations[0]).down, "DROP TABLE a CASCADE");
  EXPECT_FALSE(std::get<model::RawSql>(m.operations[1]).down);
  EXPECT_TRUE(SqlLeftBehind(m).empty());
}

TEST(SqlDownTest, AnUpThatDoesNotParseNamesTheOperation) {
  model::Migration m = WithSql({{"CREATE TABEL t (id int)", std::nullopt, false}});
  Status s = InferSqlDowns(m);
  ASSERT_FALSE(s.ok());
  EXPECT_EQ(s.error().kind(), ErrorKind::kInvalidMigration);
  EXPECT_NE(s.error().Describe().find("m.yaml, operation 1 (sql), field up"), std::string::npos)
      << s.error().Describe();
}

}  // namespace
}  // namespace zerodown::sql
