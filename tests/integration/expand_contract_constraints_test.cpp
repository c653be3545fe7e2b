// The constraint operations on a real server, against the promises of expand/contract:
//  - after start, the old version (the physical tables) and the new version (its views) both
//    read and write and see each other's writes; a write through the new version that breaks the
//    new constraint fails with the constraint's SQLSTATE (23514 check, 23505 unique, 23503 foreign
//    key), while the old version, whose values reach the new column through `up`, goes on;
//  - after complete, the constraint is in the catalog, validated, under the user's name, and
//    nothing of zerodown's (_zd_ columns, triggers, functions, indexes, constraints) is left;
//  - after rollback, the catalog is exactly as before start and the rows are the old rows plus
//    every write made through either version.
// Table-driven: each case has a setup, a migration, steps after start, catalog expectations and
// steps after complete, and steps after rollback.
#include <fmt/format.h>
#include <gtest/gtest.h>

#include <algorithm>

#include "support/database.hpp"
#include "support/migrations.hpp"
#include "support/two_versions.hpp"
#include "zerodown/engine/engine.hpp"
#include "zerodown/model/migration_reader.hpp"
#include "zerodown/pg/catalog.hpp"

namespace zerodown::engine {
namespace {

using testing::Database;
using testing::kNew;
using testing::kOld;
using testing::RowsText;
using testing::Step;
using testing::Versions;

struct Case {
  std::string name;
  std::string setup;  // run after kBaseSetup
  std::string operations;
  std::vector<Step> after_start;
  std::string constraints_after_complete;  // kConstraints on users after complete
  std::vector<Step> after_complete;
  std::vector<Step> after_rollback;  // through the old version after rollback
};

void PrintTo(const Case& c, std::ostream* os) { *os << c.name; }

constexpr const char* kBaseSetup =
    "CREATE TABLE teams (id int PRIMARY KEY, name text NOT NULL);"
    "INSERT INTO teams VALUES (1, 'red'), (2, 'blue');"
    "CREATE TABLE users (id int PRIMARY KEY, name text NOT NULL, age int, team_id int, "
    "email text DEFAULT 'none');"
    "COMMENT ON COLUMN users.age IS 'years';"
    "INSERT INTO users VALUES (1, 'ann', 30, 1, 'a@x'), (2, 'bob', NULL, 2, 'b@x'), "
    "(3, 'cy', 5, NULL, 'c@x');";

// The constraints of users other than its primary key, as name|type|validated|definition.
constexpr const char* kConstraints =
    "SELECT conname, contype, convalidated, pg_get_constraintdef(oid) FROM pg_constraint "
    "WHERE conrelid = 'public.users'::regclass AND contype <> 'p' ORDER BY conname";

// Columns, constraints, indexes, triggers, comments and replica identity of users and teams, in a
// canonical order (a copied column moves to the end of the table, which no query by name sees).
std::string Catalog(pg::Connection& conn) {
  std::string out;
  for (const std::string name : {"teams", "users"}) {
    auto table = pg::DescribeTable(conn, "public", name);
    if (!table) continue;
    std::vector<std::string> lines;
    for (const auto& c : table->columns) {
      lines.push_back(fmt::format("column {} {}{}{}", c.name, c.type, c.not_null ? " not null" : "",
                                  c.default_expr ? " default " + *c.default_expr : ""));
    }
    for (const auto& k : table->constraints) {
      lines.push_back(fmt::format("constraint {} {} {}{}", k.name, k.type, k.definition,
                                  k.validated ? "" : " NOT VALID"));
    }
    for (const auto& i : table->indexes) {
      lines.push_back(fmt::format("index {}{}", i.definition, i.valid ? "" : " INVALID"));
    }
    for (const auto& t : table->triggers) lines.push_back("trigger " + t.name);
    std::string regclass = conn.Ident("public", name);
    lines.push_back("comments " +
                    RowsText(conn.Exec("SELECT attname, col_description(attrelid, attnum) FROM "
                                       "pg_attribute WHERE attrelid = $1::regclass AND attnum > 0 "
                                       "AND col_description(attrelid, attnum) IS NOT NULL "
                                       "ORDER BY attname",
                                       {regclass})));
    lines.push_back("replica identity " +
                    RowsText(conn.Exec("SELECT relreplident, (SELECT indexrelid::regclass::text "
                                       "FROM pg_index WHERE indrelid = c.oid AND indisreplident) "
                                       "FROM pg_class c WHERE oid = $1::regclass",
                                       {regclass})));
    std::sort(lines.begin(), lines.end());
    out += "table " + name + "\n";
    for (const auto& l : lines) out += "  " + l + "\n";
  }
  return out;
}

// Everything zerodown adds while a migration runs and must be gone once it is over. Table
// columns only: an index keeps the names its columns had when it was built (a unique index built
// on a copy names it _zd_new_<column> in pg_attribute, while its definition names the column).
std::string Leftovers(pg::Connection& conn) {
  return RowsText(conn.Exec(
      "SELECT 'column ' || attrelid::regclass || '.' || attname FROM pg_attribute "
      "JOIN pg_class ON pg_class.oid = attrelid AND relkind IN ('r', 'p') "
      "WHERE attname LIKE '\\_zd\\_%' AND attnum > 0 AND NOT attisdropped "
      "UNION ALL SELECT 'trigger ' || tgname FROM pg_trigger WHERE tgname LIKE '\\_zd\\_%' "
      "UNION ALL SELECT 'function ' || proname FROM pg_proc WHERE proname LIKE '\\_zd\\_%' "
      "UNION ALL SELECT 'constraint ' || conname FROM pg_constraint WHERE conname LIKE '\\_zd\\_%' "
      "UNION ALL SELECT 'relation ' || relname FROM pg_class WHERE relname LIKE '\\_zd\\_%' "
      "ORDER BY 1"));
}

const std::vector<Case>& Cases() {
  static const std::vector<Case> cases = {
      // check with a type change: up maps the old version's negative ages into the constraint.
      {"alter_column_check_and_type",
       "",
       R"j({"alter_column": {"table": "users", "column": "age", "type": "bigint",
           "check": {"name": "users_age_nonneg", "constraint": "age >= 0"},
           "up": "CASE WHEN age < 0 THEN 0 ELSE age END", "down": "age::integer"}})j",
       {{kNew, "UPDATE users SET age = -1 WHERE id = 1", "!23514 users_age_nonneg"},
        {kNew, "INSERT INTO users (id, name, age) VALUES (4, 'dee', -4)", "!23514"},
        {kOld, "UPDATE users SET age = -7 WHERE id = 2"},
        {kNew, "SELECT age FROM users WHERE id = 2", "0"},
        {kOld, "SELECT age FROM users WHERE id = 2", "-7"},
        {kNew, "INSERT INTO users (id, name, age) VALUES (4, 'dee', 44)"},
        {kOld, "SELECT name, age, email FROM users WHERE id = 4", "dee|44|none"},
        {kNew, "UPDATE users SET age = 31 WHERE id = 1"},
        {kOld, "SELECT age FROM users WHERE id = 1", "31"}},
       "users_age_nonneg|c|t|CHECK ((age >= 0))",
       {{kOld, "UPDATE users SET age = -1 WHERE id = 1", "!23514 users_age_nonneg"},
        {kOld,
         "SELECT format_type(atttypid, atttypmod), col_description(attrelid, attnum) FROM "
         "pg_attribute WHERE attrelid = 'users'::regclass AND attname = 'age'",
         "bigint|years"},
        {kNew, "SELECT id, age FROM users ORDER BY id", "1|31;2|0;3|5;4|44"}},
       {{kOld, "SELECT id, age FROM users ORDER BY id", "1|31;2|-7;3|5;4|44"}}},

      {"alter_column_unique",
       "",
       R"j({"alter_column": {"table": "users", "column": "email",
           "unique": {"name": "users_email_key"}, "up": "email", "down": "email"}})j",
       {{kNew, "UPDATE users SET email = 'a@x' WHERE id = 2", "!23505 users_email"},
        {kOld, "UPDATE users SET email = 'bb@x' WHERE id = 2"},
        {kNew, "SELECT email FROM users WHERE id = 2", "bb@x"},
        {kNew, "INSERT INTO users (id, name, email) VALUES (4, 'dee', 'd@x')"},
        {kOld, "SELECT email FROM users WHERE id = 4", "d@x"},
        {kOld, "INSERT INTO users (id, name) VALUES (5, 'eve')"},
        {kNew, "SELECT email FROM users WHERE id = 5", "none"}},
       "users_email_key|u|t|UNIQUE (email)",
       {{kOld, "UPDATE users SET email = 'a@x' WHERE id = 2", "!23505 users_email_key"},
        {kOld, "SELECT count(*) FROM pg_indexes WHERE indexname = 'users_email_key'", "1"},
        {kOld, "UPDATE users SET email = 'e@x' WHERE id = 5"},
        {kOld, "INSERT INTO users (id, name) VALUES (6, 'fay') RETURNING email", "none"}},
       {{kOld, "SELECT id, email FROM users ORDER BY id", "1|a@x;2|bb@x;3|c@x;4|d@x;5|none"}}},

      {"alter_column_references",
       "",
       R"j({"alter_column": {"table": "users", "column": "team_id",
           "references": {"name": "users_team_fk", "table": "teams", "column": "id",
                          "on_delete": "SET NULL"}, "up": "team_id", "down": "team_id"}})j",
       {{kNew, "UPDATE users SET team_id = 99 WHERE id = 1", "!23503 users_team_fk"},
        {kOld, "UPDATE users SET team_id = 2 WHERE id = 1"},
        {kNew, "SELECT team_id FROM users WHERE id = 1", "2"},
        {kNew, "INSERT INTO users (id, name, team_id) VALUES (4, 'dee', 1)"},
        {kOld, "SELECT team_id FROM users WHERE id = 4", "1"}},
       "users_team_fk|f|t|FOREIGN KEY (team_id) REFERENCES teams(id) ON DELETE SET NULL",
       {{kOld, "UPDATE users SET team_id = 99 WHERE id = 1", "!23503 users_team_fk"},
        {kOld, "DELETE FROM teams WHERE id = 1"},
        {kNew, "SELECT team_id FROM users WHERE id = 4", "NULL"}},
       {{kOld, "SELECT id, team_id FROM users ORDER BY id", "1|2;2|2;3|NULL;4|1"}}},

      {"create_constraint_unique",
       "",
       R"j({"create_constraint": {"table": "users", "name": "users_team_email_key",
           "type": "unique", "columns": ["team_id", "email"],
           "up": {"team_id": "team_id", "email": "email"},
           "down": {"team_id": "team_id", "email": "email"}}})j",
       {{kNew, "INSERT INTO users (id, name, team_id, email) VALUES (4, 'dee', 1, 'a@x')",
         "!23505 users_team_email"},
        {kNew, "INSERT INTO users (id, name, team_id, email) VALUES (4, 'dee', 2, 'a@x')"},
        {kOld, "SELECT team_id, email FROM users WHERE id = 4", "2|a@x"},
        {kOld, "UPDATE users SET email = 'x@x' WHERE id = 3"},
        {kNew, "SELECT team_id, email FROM users WHERE id = 3", "NULL|x@x"}},
       "users_team_email_key|u|t|UNIQUE (team_id, email)",
       {{kOld, "INSERT INTO users (id, name, team_id, email) VALUES (5, 'eve', 1, 'a@x')",
         "!23505 users_team_email_key"}},
       {{kOld, "SELECT id, team_id, email FROM users ORDER BY id",
         "1|1|a@x;2|2|b@x;3|NULL|x@x;4|2|a@x"}}},

      {"create_constraint_check",
       "",
       R"j({"create_constraint": {"table": "users", "name": "users_sane",
           "type": "check", "columns": ["name", "age"],
           "check": "name <> '' AND (age IS NULL OR age >= 0)",
           "up": {"name": "CASE WHEN name = '' THEN 'unknown' ELSE name END",
                  "age": "GREATEST(age, 0)"},
           "down": {"name": "name", "age": "age"}}})j",
       {{kNew, "INSERT INTO users (id, name, age) VALUES (4, '', 5)", "!23514 users_sane"},
        {kNew, "UPDATE users SET age = -2 WHERE id = 1", "!23514 users_sane"},
        {kOld, "UPDATE users SET age = -3, name = '' WHERE id = 1"},
        {kNew, "SELECT name, age FROM users WHERE id = 1", "unknown|0"},
        {kOld, "SELECT name, age FROM users WHERE id = 1", "|-3"},
        {kNew, "UPDATE users SET age = 8 WHERE id = 2"},
        {kOld, "SELECT age FROM users WHERE id = 2", "8"}},
       "users_sane|c|t|CHECK (((name <> ''::text) AND ((age IS NULL) OR (age >= 0))))",
       {{kOld, "INSERT INTO users (id, name) VALUES (5, '')", "!23514 users_sane"},
        {kOld,
         "SELECT col_description(attrelid, attnum) FROM pg_attribute WHERE attrelid = "
         "'users'::regclass AND attname = 'age'",
         "years"}},
       {{kOld, "SELECT id, name, age FROM users ORDER BY id", "1||-3;2|bob|8;3|cy|5"}}},

      {"create_constraint_foreign_key",
       "",
       R"j({"create_constraint": {"table": "users", "name": "users_team_fk",
           "type": "foreign_key", "columns": ["team_id"],
           "references": {"table": "teams", "columns": ["id"], "on_delete": "CASCADE"},
           "up": {"team_id": "team_id"}, "down": {"team_id": "team_id"}}})j",
       {{kNew, "INSERT INTO users (id, name, team_id) VALUES (4, 'dee', 99)",
         "!23503 users_team_fk"},
        {kNew, "INSERT INTO users (id, name, team_id) VALUES (4, 'dee', 2)"},
        {kOld, "SELECT team_id FROM users WHERE id = 4", "2"},
        {kOld, "UPDATE users SET team_id = 1 WHERE id = 3"},
        {kNew, "SELECT team_id FROM users WHERE id = 3", "1"}},
       "users_team_fk|f|t|FOREIGN KEY (team_id) REFERENCES teams(id) ON DELETE CASCADE",
       {{kOld, "UPDATE users SET team_id = 99 WHERE id = 1", "!23503 users_team_fk"},
        {kOld, "DELETE FROM teams WHERE id = 2"},
        {kNew, "SELECT id FROM users ORDER BY id", "1;3"}},
       {{kOld, "SELECT id, team_id FROM users ORDER BY id", "1|1;2|2;3|1;4|2"}}},

      {"drop_constraint_check",
       "ALTER TABLE users ADD CONSTRAINT users_age_check CHECK (age >= 0);",
       R"j({"drop_constraint": {"table": "users", "name": "users_age_check", "up": "age",
           "down": "GREATEST(age, 0)"}})j",
       {{kNew, "UPDATE users SET age = -1 WHERE id = 1"},
        {kNew, "SELECT age FROM users WHERE id = 1", "-1"},
        {kOld, "SELECT age FROM users WHERE id = 1", "0"},
        {kOld, "UPDATE users SET age = -1 WHERE id = 2", "!23514 users_age_check"},
        {kOld, "UPDATE users SET age = 9 WHERE id = 2"},
        {kNew, "SELECT age FROM users WHERE id = 2", "9"}},
       "",
       {{kOld, "UPDATE users SET age = -9 WHERE id = 2"},
        {kNew, "SELECT id, age FROM users ORDER BY id", "1|-1;2|-9;3|5"}},
       {{kOld, "SELECT id, age FROM users ORDER BY id", "1|0;2|9;3|5"},
        {kOld, "UPDATE users SET age = -1 WHERE id = 2", "!23514 users_age_check"}}},

      {"drop_multicolumn_constraint_unique",
       "ALTER TABLE users ADD CONSTRAINT users_team_email_key UNIQUE (team_id, email);",
       R"j({"drop_multicolumn_constraint": {"table": "users", "name": "users_team_email_key",
           "up": {"email": "email"},
           "down": {"team_id": "team_id", "email": "email || '#' || id"}}})j",
       {{kNew, "INSERT INTO users (id, name, team_id, email) VALUES (4, 'dee', 1, 'a@x')"},
        {kNew, "SELECT count(*) FROM users WHERE email = 'a@x'", "2"},
        {kOld, "SELECT email FROM users WHERE id = 4", "a@x#4"},
        {kOld, "INSERT INTO users (id, name, team_id, email) VALUES (5, 'eve', 1, 'a@x')",
         "!23505 users_team_email_key"},
        {kOld, "UPDATE users SET team_id = 2 WHERE id = 3"},
        {kNew, "SELECT team_id, email FROM users WHERE id = 3", "2|c@x"}},
       "",
       {{kOld, "INSERT INTO users (id, name, team_id, email) VALUES (5, 'eve', 1, 'a@x')"},
        {kOld, "SELECT count(*) FROM pg_class WHERE relname = 'users_team_email_key'", "0"}},
       {{kOld, "SELECT id, team_id, email FROM users ORDER BY id",
         "1|1|a@x;2|2|b@x;3|2|c@x;4|1|a@x#4"}}},

      {"set_replica_identity_full",
       "",
       R"j({"set_replica_identity": {"table": "users", "identity": {"type": "full"}}})j",
       {{kOld, "SELECT relreplident FROM pg_class WHERE oid = 'users'::regclass", "f"},
        {kNew, "INSERT INTO users (id, name) VALUES (4, 'dee')"},
        {kOld, "UPDATE users SET name = 'dd' WHERE id = 4"},
        {kNew, "SELECT name FROM users WHERE id = 4", "dd"}},
       "",
       {{kOld, "SELECT relreplident FROM pg_class WHERE oid = 'users'::regclass", "f"}},
       {{kOld, "SELECT relreplident FROM pg_class WHERE oid = 'users'::regclass", "d"},
        {kOld, "SELECT name FROM users WHERE id = 4", "dd"}}},

      // Rollback restores an index identity, not the default.
      {"set_replica_identity_from_index",
       "ALTER TABLE users ALTER COLUMN email SET NOT NULL;"
       "CREATE UNIQUE INDEX users_email_idx ON users (email);"
       "ALTER TABLE users REPLICA IDENTITY USING INDEX users_email_idx;",
       R"j({"set_replica_identity": {"table": "users", "identity": {"type": "default"}}})j",
       {{kOld, "SELECT relreplident FROM pg_class WHERE oid = 'users'::regclass", "d"}},
       "",
       {{kOld,
         "SELECT relreplident, (SELECT count(*) FROM pg_index WHERE indisreplident AND indrelid "
         "= c.oid) FROM pg_class c WHERE oid = 'users'::regclass",
         "d|0"}},
       {{kOld,
         "SELECT relreplident, (SELECT indexrelid::regclass::text FROM pg_index WHERE "
         "indisreplident AND indrelid = c.oid) FROM pg_class c WHERE oid = 'users'::regclass",
         "i|users_email_idx"}}},
  };
  return cases;
}

class ExpandContractConstraintsTest : public ::testing::TestWithParam<Case> {};

TEST_P(ExpandContractConstraintsTest, BothVersionsWorkThenCompleteLeavesTheConstraint) {
  const Case& c = GetParam();
  testing::CaseRun run(testing::CaseDatabase(c, kBaseSetup, "_c"));
  run.Start(c);
  run.Complete();
  EXPECT_EQ(RowsText(run.conn().Exec(kConstraints)), c.constraints_after_complete)
      << "the constraint is there, validated, under the user's name";
  EXPECT_EQ(Leftovers(run.conn()), "");
  run.Steps(c.after_complete, "after complete");
}

TEST_P(ExpandContractConstraintsTest, BothVersionsWorkThenRollbackRestoresCatalogAndKeepsWrites) {
  const Case& c = GetParam();
  std::string db = testing::CaseDatabase(c, kBaseSetup, "_r");
  testing::CaseRun run(db);
  std::string before = Catalog(run.conn());
  run.Start(c);
  run.Rollback(c.after_rollback);
  EXPECT_EQ(Catalog(run.conn()), before) << "rollback leaves the catalog as before start";
  EXPECT_EQ(Leftovers(run.conn()), "");
}

INSTANTIATE_TEST_SUITE_P(Ops, ExpandContractConstraintsTest, ::testing::ValuesIn(Cases()),
                         [](const ::testing::TestParamInfo<Case>& info) {
                           return info.param.name;
                         });

// Bad input fails at planning, names the field, and changes nothing.
TEST(ExpandContractConstraintsValidationTest, BadConstraintsFailBeforeAnythingChanges) {
  std::string db = Database("constraints_bad_input");
  pg::Connection conn = testing::Connect(db);
  conn.Run(std::string(kBaseSetup) +
           "ALTER TABLE users ADD CONSTRAINT users_age_check CHECK (age >= 0);");
  State(conn).Init();
  std::string before = Catalog(conn);
  SilentProgress progress;
  Engine engine(conn, testing::FastEngineOptions(), progress);
  struct Bad {
    std::string operations;
    std::string needle;
  };
  std::vector<Bad> cases = {
      {R"({"alter_column": {"table": "users", "column": "team_id", "up": "team_id",
           "down": "team_id", "references": {"name": "fk", "table": "nope", "column": "id"}}})",
       "table \"nope\""},
      {R"({"alter_column": {"table": "users", "column": "email",
           "check": {"name": "users_age_check", "constraint": "email <> ''"}}})",
       "constraint \"users_age_check\" already exists"},
      {R"({"alter_column": {"table": "users", "column": "email",
           "check": {"name": "c", "constraint": "emial <> ''"}}})",
       "does not compile"},
      {R"({"create_constraint": {"table": "users", "name": "k", "type": "foreign_key",
           "columns": ["name"], "references": {"table": "teams", "columns": ["name"]},
           "up": {"name": "name"}, "down": {"name": "name"}}})",
       "no unique constraint or primary key"},
      {R"({"drop_multicolumn_constraint": {"table": "users", "name": "nope",
           "down": {"age": "age"}}})",
       "constraint \"nope\" does not exist"},
      {R"({"drop_multicolumn_constraint": {"table": "users", "name": "users_age_check",
           "down": {"name": "name"}}})",
       "not covered by constraint"},
      {R"({"set_replica_identity": {"table": "users",
           "identity": {"type": "index", "index": "users_pkey_nope"}}})",
       "index \"users_pkey_nope\" does not exist"},
  };
  for (const auto& bad : cases) {
    try {
      engine.Start(testing::ParseOperations("bad", bad.operations));
      ADD_FAILURE() << "expected an error for " << bad.operations;
    } catch (const Error& error) {
      EXPECT_NE(error.Describe().find(bad.needle), std::string::npos) << error.Describe();
      EXPECT_NE(error.Describe().find("bad.json, operation 1"), std::string::npos)
          << error.Describe();
    }
  }
  EXPECT_EQ(Catalog(conn), before);
  EXPECT_FALSE(State(conn).Active("public").has_value());
}

}  // namespace
}  // namespace zerodown::engine
