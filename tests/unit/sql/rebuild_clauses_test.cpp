#include "zerodown/sql/rebuild_clauses.hpp"

#include <gtest/gtest.h>

namespace zerodown::sql {
namespace {

model::Migration Rebuild(std::vector<model::RebuildColumn> columns, const std::string& alter) {
  model::RebuildTable op;
  op.table = "orders";
  op.columns = std::move(columns);
  op.alter = alter;
  model::Migration migration;
  migration.name = "m";
  migration.source = "m.yaml";
  migration.operations = {model::RawSql{"SELECT 1", {}, false}, op};
  return migration;
}

const model::RebuildTable& Lowered(const model::Migration& m) {
  return std::get<model::RebuildTable>(m.operations[1]);
}

TEST(RebuildClausesTest, ClausesBecomeOneChangePerColumn) {
  auto m = Rebuild({{"note", std::nullopt, false, {}, {}, std::nullopt, std::nullopt}},
                   "ALTER COLUMN qty TYPE bigint, ALTER COLUMN price TYPE bigint USING (price * "
                   "100)::bigint, ALTER COLUMN qty SET NOT NULL, ALTER COLUMN note TYPE text, "
                   "ALTER COLUMN price DROP DEFAULT");
  Status s = LowerRebuildClauses(m);
  ASSERT_TRUE(s.ok()) << s.error().Describe();
  const auto& op = Lowered(m);
  EXPECT_FALSE(op.alter) << "the engine sees columns only";
  ASSERT_EQ(op.columns.size(), 3u);
  EXPECT_EQ(op.columns[0].column, "note");
  EXPECT_EQ(op.columns[0].type, "text");
  EXPECT_EQ(op.columns[0].nullable, false) << "what `columns` said stays";
  EXPECT_FALSE(op.columns[0].up) << "no USING: the copy is the column";
  EXPECT_EQ(op.columns[1].column, "qty");
  EXPECT_EQ(op.columns[1].type, "bigint");
  EXPECT_EQ(op.columns[1].nullable, false);
  EXPECT_EQ(op.columns[2].column, "price");
  EXPECT_EQ(op.columns[2].up, "(price * 100)::bigint");
  EXPECT_TRUE(op.columns[2].default_value.IsNull());
}

TEST(RebuildClausesTest, WhatARebuildCannotMakeIsRefusedNamingTheOperation) {
  struct Bad {
    std::string alter;
    std::string message;
    std::string fix;
  };
  const Bad cases[] = {
      {"ADD COLUMN extra int", "clause for the operation add_column", "`add_column` operation"},
      {"DROP COLUMN note", "drop_column", "`drop_column` operation"},
      {"ALTER COLUMN qty TYPE bigint; DROP TABLE orders", "not the clauses of one ALTER TABLE",
       "no second statement"},
      {"ADD CONSTRAINT c CHECK (qty > 0)", "a clause a rebuild cannot make", "SET/DROP NOT NULL"},
      {"ALTER COLUMN qty TYPE", "not valid ALTER TABLE clauses", "separated by commas"},
      {"ALTER COLUMN qty TYPE bigint, ALTER COLUMN qty TYPE int",
       "type of column \"qty\" is given "
       "twice",
       "once"},
  };
  for (const auto& c : cases) {
    auto m = Rebuild({}, c.alter);
    model::Migration before = m;
    Status s = LowerRebuildClauses(m);
    ASSERT_FALSE(s.ok()) << c.alter;
    EXPECT_EQ(s.error().kind(), ErrorKind::kInvalidMigration);
    EXPECT_EQ(s.error().where(), "m.yaml, operation 2 (rebuild_table), field alter");
    EXPECT_NE(s.error().message().find(c.message), std::string::npos) << s.error().Describe();
    EXPECT_NE(s.error().fix().find(c.fix), std::string::npos) << s.error().Describe();
    EXPECT_EQ(m, before) << "nothing changes on an error";
  }
}

}  // namespace
}  // namespace zerodown::sql
