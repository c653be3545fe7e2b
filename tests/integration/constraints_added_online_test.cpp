// Constraints that come with a new column, a new key or a new table, added the way pgroll adds
// them (add_column's check, references and unique; create_constraint of type primary_key;
// create_table's exclusion constraint), on a real server:
//  - after start, the new version's writes that break the constraint fail with its SQLSTATE,
//    values `up` writes for the old version are held to it too, and the old version goes on
//    writing;
//  - after complete, the constraint is in the catalog under the user's name and validated;
//  - after rollback, `pg_dump --schema-only` is byte for byte what it was before start.
// Refusals for what stays impossible change nothing: the dump is unchanged.
#include <fmt/format.h>
#include <gtest/gtest.h>

#include "support/database.hpp"
#include "support/migrations.hpp"
#include "support/two_versions.hpp"
#include "zerodown/engine/engine.hpp"

namespace zerodown::engine {
namespace {

using testing::Database;
using testing::kNew;
using testing::kOld;
using testing::SchemaDump;
using testing::Step;
using testing::Versions;

struct Case {
  std::string name;
  std::string setup;  // run after kBaseSetup
  std::string operations;
  std::vector<Step> after_start;
  std::vector<Step> after_complete;
  std::vector<Step> after_rollback;  // through the old version after rollback
};

void PrintTo(const Case& c, std::ostream* os) { *os << c.name; }

constexpr const char* kBaseSetup =
    "CREATE TABLE teams (id int PRIMARY KEY, name text NOT NULL);"
    "INSERT INTO teams VALUES (1, 'red'), (2, 'blue');"
    "CREATE TABLE users (id int PRIMARY KEY, name text NOT NULL, age int);"
    "INSERT INTO users VALUES (1, 'ann', 30), (2, 'bob', NULL), (3, 'cy', 5);"
    // No primary key, as pgroll's example 55 leaves a table before it adds one.
    "CREATE TABLE events (id int, kind text);"
    "INSERT INTO events VALUES (1, 'a'), (2, 'b');";

// The constraint `name` as type|validated, for the after-complete checks.
std::string Constraint(const std::string& name) {
  return fmt::format("SELECT contype, convalidated FROM pg_constraint WHERE conname = '{}'", name);
}

const std::vector<Case>& Cases() {
  static const std::vector<Case> cases = {
      // pgroll's example 26: a NOT NULL column with a default and a check.
      {"add_column_check",
       "",
       R"zd({"add_column": {"table": "users", "column": {"name": "score", "type": "integer",
           "default": "18", "check": {"name": "score_check", "constraint": "score >= 18"}}}})zd",
       {{kNew, "INSERT INTO users (id, name, score) VALUES (10, 'dee', 5)", "!23514 score_check"},
        {kNew, "INSERT INTO users (id, name, score) VALUES (11, 'eve', 20)"},
        {kNew, "UPDATE users SET score = 1 WHERE id = 1", "!23514 score_check"},
        {kOld, "INSERT INTO users (id, name) VALUES (12, 'fay')"},
        {kNew, "SELECT id, score FROM users ORDER BY id", "1|18;2|18;3|18;11|20;12|18"}},
       {{kOld, Constraint("score_check"), "c|t"},
        {kOld, "INSERT INTO users (id, name, score) VALUES (13, 'gus', 0)", "!23514 score_check"}},
       {{kOld, "SELECT * FROM users ORDER BY id",
         "1|ann|30;2|bob|NULL;3|cy|5;11|eve|NULL;12|fay|NULL"}}},

      // The values `up` computes for the old version's writes are held to the check as well.
      {"add_column_check_with_up",
       "",
       R"zd({"add_column": {"table": "users", "column": {"name": "grade", "type": "text",
           "nullable": true, "check": {"name": "grade_check", "constraint": "grade <> 'bad'"}},
           "up": "CASE WHEN age > 100 THEN 'bad' ELSE 'ok' END"}})zd",
       {{kNew, "SELECT id, grade FROM users ORDER BY id", "1|ok;2|ok;3|ok"},
        {kNew, "INSERT INTO users (id, name, grade) VALUES (10, 'dee', 'bad')",
         "!23514 grade_check"},
        {kOld, "INSERT INTO users (id, name, age) VALUES (11, 'eve', 200)", "!23514 grade_check"},
        {kOld, "INSERT INTO users (id, name, age) VALUES (12, 'fay', 50)"},
        {kNew, "SELECT grade FROM users WHERE id = 12", "ok"}},
       {{kOld, Constraint("grade_check"), "c|t"}},
       {{kOld, "SELECT * FROM users ORDER BY id", "1|ann|30;2|bob|NULL;3|cy|5;12|fay|50"}}},

      // pgroll's example 17 shape with a foreign key; up's values are checked too.
      {"add_column_references",
       "",
       R"zd({"add_column": {"table": "users", "column": {"name": "team_id", "type": "integer",
           "nullable": true, "references": {"name": "users_team_fk", "table": "teams",
           "column": "id", "on_delete": "SET NULL"}},
           "up": "CASE WHEN age > 100 THEN 99 ELSE 1 END"}})zd",
       {{kNew, "SELECT id, team_id FROM users ORDER BY id", "1|1;2|1;3|1"},
        {kNew, "UPDATE users SET team_id = 42 WHERE id = 1", "!23503 users_team_fk"},
        {kNew, "UPDATE users SET team_id = 2 WHERE id = 1"},
        {kOld, "INSERT INTO users (id, name, age) VALUES (11, 'eve', 200)", "!23503 users_team_fk"},
        {kOld, "INSERT INTO users (id, name, age) VALUES (12, 'fay', 50)"},
        {kOld, "DELETE FROM teams WHERE id = 2"},
        {kNew, "SELECT id, team_id FROM users ORDER BY id", "1|NULL;2|1;3|1;12|1"}},
       {{kOld, Constraint("users_team_fk"), "f|t"},
        {kOld, "UPDATE users SET team_id = 7 WHERE id = 2", "!23503 users_team_fk"}},
       {{kOld, "SELECT * FROM users ORDER BY id", "1|ann|30;2|bob|NULL;3|cy|5;12|fay|50"},
        {kOld, "SELECT id FROM teams ORDER BY id", "1"}}},

      {"add_column_unique",
       "",
       R"zd({"add_column": {"table": "users", "column": {"name": "code", "type": "text",
           "nullable": true, "unique": true}}})zd",
       {{kNew, "UPDATE users SET code = 'A' WHERE id = 1"},
        {kNew, "UPDATE users SET code = 'A' WHERE id = 2", "!23505"},
        {kOld, "INSERT INTO users (id, name) VALUES (4, 'dee')"}},
       {{kOld, Constraint("users_code_key"), "u|t"}},
       {{kOld, "SELECT * FROM users ORDER BY id", "1|ann|30;2|bob|NULL;3|cy|5;4|dee|NULL"}}},

      // A table without a primary key that has rows: the key's index is built concurrently and
      // NULLs are refused from start by a NOT VALID check.
      {"create_constraint_primary_key",
       "",
       R"zd({"create_constraint": {"table": "events", "name": "events_pkey",
           "type": "primary_key", "columns": ["id"], "up": {"id": "id"},
           "down": {"id": "id"}}})zd",
       {{kNew, "INSERT INTO events VALUES (1, 'dup')", "!23505"},
        {kNew, "INSERT INTO events VALUES (NULL, 'null')", "!23514"},
        {kOld, "INSERT INTO events VALUES (3, 'c')"},
        {kOld, "INSERT INTO events VALUES (3, 'c again')", "!23505"},
        {kNew, "SELECT id, kind FROM events ORDER BY id", "1|a;2|b;3|c"}},
       {{kOld, Constraint("events_pkey"), "p|t"},
        {kOld,
         "SELECT attnotnull FROM pg_attribute WHERE attrelid = 'events'::regclass AND "
         "attname = 'id'",
         "t"},
        {kOld, "SELECT count(*) FROM pg_constraint WHERE conname LIKE '\\_zd\\_%'", "0"}},
       {{kOld, "SELECT * FROM events ORDER BY id", "1|a;2|b;3|c"},
        {kOld, "INSERT INTO events VALUES (NULL, 'null again')"}}},

      // pgroll's example 55: the table and its key in one migration.
      {"create_table_then_primary_key",
       "",
       R"zd({"create_table": {"name": "tasks", "columns": [
             {"name": "id", "type": "serial"},
             {"name": "title", "type": "varchar(255)"},
             {"name": "deadline", "type": "time with time zone", "nullable": true}]}},
           {"create_constraint": {"name": "tasks_pkey", "table": "tasks", "columns": ["id"],
             "type": "primary_key", "up": {"id": "id"}, "down": {"id": "id"}}})zd",
       {{kNew, "INSERT INTO tasks (title) VALUES ('one') RETURNING id", "1"},
        {kNew, "INSERT INTO tasks (id, title) VALUES (1, 'again')", "!23505"},
        {kOld, "INSERT INTO users (id, name) VALUES (4, 'dee')"}},
       {{kOld, Constraint("tasks_pkey"), "p|t"}},
       {{kOld, "SELECT to_regclass('tasks') IS NULL", "t"}}},

      // pgroll's example 52.
      {"create_table_exclude",
       "",
       R"zd({"create_table": {"name": "library", "columns": [
             {"name": "id", "type": "serial"},
             {"name": "returned", "type": "timestamp", "nullable": true},
             {"name": "title", "type": "text", "nullable": true}],
           "constraints": [
             {"name": "library_pk", "type": "primary_key", "columns": ["id"]},
             {"name": "forbid_duplicated_titles", "type": "exclude",
              "exclude": {"index_method": "btree", "elements": "title WITH =",
                          "predicate": "title IS NOT NULL"}}]}})zd",
       {{kNew, "INSERT INTO library (title) VALUES ('dune'), (NULL), (NULL)"},
        {kNew, "INSERT INTO library (title) VALUES ('dune')", "!23P01 forbid_duplicated_titles"},
        {kOld, "INSERT INTO users (id, name) VALUES (4, 'dee')"}},
       {{kOld, Constraint("forbid_duplicated_titles"), "x|t"},
        {kOld,
         "SELECT pg_get_constraintdef(oid) FROM pg_constraint WHERE conname = "
         "'forbid_duplicated_titles'",
         "EXCLUDE USING btree (title WITH =) WHERE ((title IS NOT NULL))"}},
       {{kOld, "SELECT to_regclass('library') IS NULL", "t"}}},
  };
  return cases;
}

class ConstraintsAddedOnlineTest : public ::testing::TestWithParam<Case> {};

TEST_P(ConstraintsAddedOnlineTest, EnforcedFromStartThenCompleteLeavesItValidUnderItsName) {
  const Case& c = GetParam();
  testing::CaseRun run(testing::CaseDatabase(c, kBaseSetup, "_c"));
  run.Start(c);
  run.Complete(c.after_complete);
}

TEST_P(ConstraintsAddedOnlineTest, RollbackLeavesTheSchemaDumpAsBeforeStart) {
  const Case& c = GetParam();
  std::string db = testing::CaseDatabase(c, kBaseSetup, "_r");
  testing::CaseRun run(db);
  std::string before = SchemaDump(db);
  run.Start(c);
  run.Rollback(c.after_rollback);
  EXPECT_EQ(SchemaDump(db), before) << "rollback leaves pg_dump --schema-only as before start";
}

INSTANTIATE_TEST_SUITE_P(Ops, ConstraintsAddedOnlineTest, ::testing::ValuesIn(Cases()),
                         [](const ::testing::TestParamInfo<Case>& info) {
                           return info.param.name;
                         });

struct Refusal {
  std::string name;
  std::string setup;
  std::string operations;
  std::string message;  // a part of the error the user reads
};

void PrintTo(const Refusal& r, std::ostream* os) { *os << r.name; }

class ConstraintRefusalsTest : public ::testing::TestWithParam<Refusal> {};

// Refused before anything changes, with exit-2 kind and a message that names the problem.
TEST_P(ConstraintRefusalsTest, RefusedWithTheFixAndNothingChanges) {
  const Refusal& r = GetParam();
  std::string db = testing::PreparedDatabase(r.name, std::string(kBaseSetup) + r.setup);
  pg::Connection conn = testing::Connect(db);
  std::string before = SchemaDump(db);
  SilentProgress progress;
  Engine engine(conn, testing::FastEngineOptions(), progress);
  try {
    engine.Start(testing::ParseOperations(r.name, r.operations));
    ADD_FAILURE() << "start should refuse";
  } catch (const Error& e) {
    EXPECT_EQ(e.kind(), ErrorKind::kInvalidMigration) << e.Describe();
    EXPECT_NE(e.Describe().find(r.message), std::string::npos) << e.Describe();
  }
  EXPECT_EQ(SchemaDump(db), before);
}

INSTANTIATE_TEST_SUITE_P(
    Ops, ConstraintRefusalsTest,
    ::testing::Values(
        Refusal{"pk_column", "",
                R"zd({"add_column": {"table": "events", "column": {"name": "uid",
                    "type": "bigint", "default": "1", "pk": true}}})zd",
                "create_constraint of type primary_key"},
        Refusal{"second_primary_key", "",
                R"zd({"create_constraint": {"table": "users", "name": "users_pk2",
                    "type": "primary_key", "columns": ["name"], "up": {"name": "name"},
                    "down": {"name": "name"}}})zd",
                "already has a primary key"},
        Refusal{"primary_key_over_duplicates", "INSERT INTO events VALUES (2, 'again');",
                R"zd({"create_constraint": {"table": "events", "name": "events_pkey",
                    "type": "primary_key", "columns": ["id"], "up": {"id": "id"},
                    "down": {"id": "id"}}})zd",
                "holds the key (\"id\") = (2) in 2 rows"},
        Refusal{"primary_key_over_nulls", "INSERT INTO events VALUES (NULL, 'none');",
                R"zd({"create_constraint": {"table": "events", "name": "events_pkey",
                    "type": "primary_key", "columns": ["id"], "up": {"id": "id"},
                    "down": {"id": "id"}}})zd",
                "has a row with NULL in the primary key's columns"},
        Refusal{"primary_key_that_changes_values", "",
                R"zd({"create_constraint": {"table": "events", "name": "events_pkey",
                    "type": "primary_key", "columns": ["id"], "up": {"id": "id + 1"},
                    "down": {"id": "id - 1"}}})zd",
                "would change them"},
        Refusal{"check_name_taken", "ALTER TABLE users ADD CONSTRAINT age_check CHECK (age > 0);",
                R"zd({"add_column": {"table": "users", "column": {"name": "x", "type": "int",
                    "nullable": true, "check": {"name": "age_check", "constraint": "x > 0"}}}})zd",
                "already has a constraint named \"age_check\""}),
    [](const ::testing::TestParamInfo<Refusal>& info) { return info.param.name; });

}  // namespace
}  // namespace zerodown::engine
