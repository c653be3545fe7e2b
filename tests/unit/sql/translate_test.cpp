#include "zerodown/sql/translate.hpp"

#include <gtest/gtest.h>

#include <optional>
#include <string>

#include "zerodown/model/migration_reader.hpp"

namespace zerodown::sql {
namespace {

model::Migration Translate(const std::string& text, bool allow_blocking = false) {
  auto parsed = ParseSql("004_change.sql", text);
  EXPECT_TRUE(parsed.ok()) << parsed.error().Describe();
  return TranslateSql(parsed.value(), {allow_blocking}).ValueOrThrow();
}

// The error translating `text`, read from `path`, ends with (no --allow-blocking); none when it
// translates.
std::optional<Error> Refusal(const std::string& path, const std::string& text) {
  auto parsed = ParseSql(path, text);
  EXPECT_TRUE(parsed.ok()) << parsed.error().Describe();
  auto result = TranslateSql(parsed.value(), {});
  if (result.ok()) return std::nullopt;
  return result.error();
}

TEST(TranslateTest, TypeChangeBecomesAlterColumnWithUpFromUsing) {
  auto m = Translate(
      "SET lock_timeout = '1s';\nBEGIN;\nALTER TABLE accounts ALTER COLUMN balance TYPE bigint "
      "USING balance::bigint;\nCOMMIT;\n");
  EXPECT_EQ(m.name, "004_change");
  ASSERT_EQ(m.operations.size(), 1u) << "SET and BEGIN/COMMIT are zerodown's own business";
  const auto& op = std::get<model::AlterColumn>(m.operations[0]);
  EXPECT_EQ(op.table, "accounts");
  EXPECT_EQ(op.column, "balance");
  EXPECT_EQ(op.type, "bigint");
  EXPECT_EQ(op.up, "balance::bigint");
  EXPECT_EQ(op.down, "balance");
}

TEST(TranslateTest, AnExpressionThatOpensWithAParenthesisKeepsWhatFollowsIt) {
  auto m = Translate(
      "ALTER TABLE t ALTER COLUMN price TYPE bigint USING (price * 100)::bigint, ALTER COLUMN n "
      "TYPE int USING ((n + 1)) * 2, ALTER COLUMN m TYPE int USING (m);");
  ASSERT_EQ(m.operations.size(), 3u);
  EXPECT_EQ(std::get<model::AlterColumn>(m.operations[0]).up, "(price * 100)::bigint");
  EXPECT_EQ(std::get<model::AlterColumn>(m.operations[1]).up, "((n + 1)) * 2");
  EXPECT_EQ(std::get<model::AlterColumn>(m.operations[2]).up, "m");
}

TEST(TranslateTest, ExpressionsEndAtTheNextSubcommandOrConstraint) {
  auto m = Translate(
      "ALTER TABLE t ADD COLUMN tags varchar(20)[] NOT NULL DEFAULT '{a,b}', "
      "ALTER COLUMN note SET DEFAULT 'x, (y)', ALTER COLUMN n TYPE numeric(12,2) USING "
      "round(n, 2), DROP COLUMN old;");
  ASSERT_EQ(m.operations.size(), 4u);
  const auto& add = std::get<model::AddColumn>(m.operations[0]);
  EXPECT_EQ(add.column.type, "varchar(20)[]");
  EXPECT_FALSE(add.column.nullable);
  EXPECT_EQ(add.column.default_value, "'{a,b}'");
  const auto& set_default = std::get<model::AlterColumn>(m.operations[1]);
  ASSERT_TRUE(set_default.default_value.HasValue());
  EXPECT_EQ(set_default.default_value.value(), "'x, (y)'");
  const auto& type = std::get<model::AlterColumn>(m.operations[2]);
  EXPECT_EQ(type.type, "numeric(12,2)");
  EXPECT_EQ(type.up, "round(n, 2)");
  EXPECT_EQ(std::get<model::DropColumn>(m.operations[3]).column, "old");
}

TEST(TranslateTest, IndexesRenamesDropsAndTables) {
  auto m = Translate(
      "CREATE UNIQUE INDEX orders_ref ON orders (ref DESC) WHERE ref > 0;\n"
      "DROP INDEX old_idx;\nALTER TABLE orders RENAME COLUMN ref TO reference;\n"
      "ALTER TABLE orders RENAME TO purchases;\nDROP TABLE scratch;\n"
      "CREATE TABLE audit (id bigint PRIMARY KEY, at timestamptz NOT NULL DEFAULT now(), "
      "what text CHECK (length(what) < 100));\n");
  ASSERT_EQ(m.operations.size(), 6u);
  const auto& index = std::get<model::CreateIndex>(m.operations[0]);
  EXPECT_TRUE(index.unique);
  EXPECT_EQ(index.predicate, "ref > 0");
  ASSERT_EQ(index.columns.size(), 1u);
  EXPECT_EQ(index.columns[0].sort, model::SortOrder::kDesc);
  EXPECT_EQ(std::get<model::DropIndex>(m.operations[1]).name, "old_idx");
  EXPECT_EQ(std::get<model::RenameColumn>(m.operations[2]).to, "reference");
  EXPECT_EQ(std::get<model::RenameTable>(m.operations[3]).to, "purchases");
  EXPECT_EQ(std::get<model::DropTable>(m.operations[4]).name, "scratch");
  const auto& table = std::get<model::CreateTable>(m.operations[5]);
  ASSERT_EQ(table.columns.size(), 3u);
  EXPECT_TRUE(table.columns[0].pk);
  EXPECT_EQ(table.columns[1].default_value, "now()");
  ASSERT_TRUE(table.columns[2].check.has_value());
  EXPECT_EQ(table.columns[2].check->constraint, "length(what) < 100");
}

TEST(TranslateTest, WhatCannotRunOnlineIsRefusedWithTheReasonUnlessAllowed) {
  const std::string text = "ALTER TABLE t ADD COLUMN c int;\nVACUUM FULL t;\n";
  auto refused = Refusal("m.sql", text);
  ASSERT_TRUE(refused.has_value());
  EXPECT_EQ(refused->where(), "m.sql:2:1");
  EXPECT_NE(refused->Describe().find("cannot run online"), std::string::npos);
  EXPECT_NE(refused->fix().find("--allow-blocking"), std::string::npos);
  auto allowed = Translate(text, /*allow_blocking=*/true);
  ASSERT_EQ(allowed.operations.size(), 2u);
  EXPECT_EQ(std::get<model::RawSql>(allowed.operations[1]).up, "VACUUM FULL t");
}

// What is online already runs as written, outside a transaction block: the rewrites lint proposes
// for an expression index, a REINDEX, VACUUM FULL, an index swap and ALTER TYPE ... ADD VALUE.
TEST(TranslateTest, OnlineStatementsWithoutAnOperationRunAsWritten) {
  auto m = Translate(
      "CREATE INDEX users_lower_email ON users (lower(email));\n"
      "CREATE UNIQUE INDEX CONCURRENTLY users_lower_name ON users (lower(name));\n"
      "REINDEX TABLE CONCURRENTLY users;\nVACUUM (ANALYZE) users;\n"
      "ALTER INDEX users_name_new RENAME TO users_name;\n"
      "ALTER TYPE mood ADD VALUE 'calm';\n");
  ASSERT_EQ(m.operations.size(), 6u);
  const auto& expression = std::get<model::RawSql>(m.operations[0]);
  EXPECT_EQ(expression.up, "CREATE INDEX CONCURRENTLY users_lower_email ON users (lower(email))");
  EXPECT_EQ(expression.down, "DROP INDEX CONCURRENTLY IF EXISTS users_lower_email");
  EXPECT_EQ(std::get<model::RawSql>(m.operations[1]).up,
            "CREATE UNIQUE INDEX CONCURRENTLY users_lower_name ON users (lower(name))");
  EXPECT_EQ(std::get<model::RawSql>(m.operations[2]).up, "REINDEX TABLE CONCURRENTLY users");
  EXPECT_EQ(std::get<model::RawSql>(m.operations[3]).up, "VACUUM (ANALYZE) users");
  EXPECT_EQ(std::get<model::RawSql>(m.operations[4]).down,
            "ALTER INDEX users_name RENAME TO users_name_new");
  EXPECT_EQ(std::get<model::RawSql>(m.operations[5]).up, "ALTER TYPE mood ADD VALUE 'calm'");
  for (const char* blocking : {"REINDEX TABLE users;", "VACUUM (FULL) users;",
                               "ALTER TYPE mood RENAME VALUE 'sad' TO 'blue';"}) {
    auto parsed = ParseSql("m.sql", blocking);
    ASSERT_TRUE(parsed.ok());
    EXPECT_FALSE(TranslateSql(parsed.value(), {}).ok()) << blocking;
  }
}

// Operations find their tables by name in the run's schema: `DROP TABLE archive.events` run on
// --schema public would drop public.events.
TEST(TranslateTest, ANameInAnotherSchemaIsRefusedNotRunAgainstThisOne) {
  auto translate = [](const std::string& text, const std::string& schema) {
    auto parsed = ParseSql("04.sql", text);
    EXPECT_TRUE(parsed.ok());
    return TranslateSql(parsed.value(), {false, schema});
  };
  for (const std::string text :
       {"DROP TABLE archive.events;", "ALTER TABLE archive.events DROP COLUMN note;",
        "CREATE INDEX CONCURRENTLY events_at ON archive.events (at);",
        "DROP INDEX CONCURRENTLY archive.events_at;", "CREATE TABLE archive.events (id int);",
        "ALTER TABLE archive.events RENAME COLUMN at TO happened_at;",
        "ALTER TABLE archive.events ALTER COLUMN id TYPE bigint;"}) {
    auto refused = translate(text, "public");
    ASSERT_FALSE(refused.ok()) << text;
    EXPECT_EQ(refused.error().kind(), ErrorKind::kInvalidMigration);
    EXPECT_NE(refused.error().message().find("names schema \"archive\""), std::string::npos)
        << refused.error().Describe();
    EXPECT_NE(refused.error().fix().find("--schema archive"), std::string::npos);
    EXPECT_EQ(refused.error().where(), "04.sql:1:1");
    auto allowed = translate(text, "archive");
    EXPECT_TRUE(allowed.ok()) << text << ": " << (allowed.ok() ? "" : allowed.error().Describe());
  }
  auto same =
      translate("DROP TABLE public.events; ALTER TABLE public.t ADD COLUMN c int;", "public")
          .ValueOrThrow();
  EXPECT_EQ(std::get<model::DropTable>(same.operations[0]).name, "events");
}

TEST(TranslateTest, TableAndColumnConstraintsOfANewTable) {
  auto m = Translate(
      "CREATE TABLE items (id bigint GENERATED BY DEFAULT AS IDENTITY, owner bigint NOT NULL "
      "REFERENCES users (id), code text UNIQUE, qty int CONSTRAINT qty_positive CHECK (qty > 0) "
      "DEFAULT 1, PRIMARY KEY (id), UNIQUE (owner, code), CHECK (qty < 1000));");
  const auto& table = std::get<model::CreateTable>(m.operations.at(0));
  ASSERT_EQ(table.columns.size(), 4u);
  EXPECT_TRUE(table.columns[0].pk) << "a table PRIMARY KEY marks its column";
  EXPECT_FALSE(table.columns[0].nullable);
  ASSERT_TRUE(table.columns[0].generated && table.columns[0].generated->identity);
  EXPECT_EQ(table.columns[0].generated->identity->user_specified_values,
            model::IdentityKind::kByDefault);
  ASSERT_TRUE(table.columns[1].references.has_value());
  EXPECT_EQ(table.columns[1].references->name, "items_owner_fkey");
  EXPECT_EQ(table.columns[1].references->table, "users");
  EXPECT_EQ(table.columns[1].references->column, "id");
  EXPECT_TRUE(table.columns[2].unique);
  EXPECT_TRUE(table.columns[2].nullable);
  ASSERT_TRUE(table.columns[3].check.has_value());
  EXPECT_EQ(table.columns[3].check->name, "qty_positive");
  EXPECT_EQ(table.columns[3].check->constraint, "qty > 0") << "it ends where DEFAULT begins";
  EXPECT_EQ(table.columns[3].default_value, "1");
  ASSERT_EQ(table.constraints.size(), 2u);
  EXPECT_EQ(table.constraints[0].name, "items_owner_key");
  EXPECT_EQ(table.constraints[0].columns, (std::vector<std::string>{"owner", "code"}));
  EXPECT_EQ(table.constraints[1].type, model::ConstraintType::kCheck);
  EXPECT_EQ(table.constraints[1].check, "qty < 1000");

  auto unnamed = Refusal("05.sql", "CREATE TABLE a (b int REFERENCES c);\n");
  ASSERT_TRUE(unnamed.has_value());
  EXPECT_EQ(unnamed->where(), "05.sql:1:1");
  EXPECT_NE(unnamed->fix().find("REFERENCES c (id)"), std::string::npos);

  const std::string foreign =
      "\nCREATE TABLE a (b int, c int, FOREIGN KEY (b) REFERENCES d (e));\n";
  auto refused = Refusal("06.sql", foreign);
  ASSERT_TRUE(refused.has_value());
  EXPECT_EQ(refused->where(), "06.sql:2:1");
  EXPECT_NE(refused->message().find("table constraint FOREIGN is not translated"),
            std::string::npos)
      << refused->Describe();
  auto allowed = Translate(foreign, /*allow_blocking=*/true);
  ASSERT_EQ(allowed.operations.size(), 1u);
  EXPECT_TRUE(std::holds_alternative<model::RawSql>(allowed.operations[0]));
}

TEST(TranslateTest, TheResultRoundTripsAsAPgrollFile) {
  auto m = Translate("ALTER TABLE a ALTER COLUMN b TYPE text; CREATE INDEX i ON a (b);");
  auto again = model::FromJson(model::ToJson(m), m.source).ValueOrThrow();
  EXPECT_EQ(again.operations, m.operations);
}

}  // namespace
}  // namespace zerodown::sql
