// A change to a column that an index or a unique constraint covers runs online, the way pgroll
// runs it: the index is built again over the column's copy, and
//  - after start, both versions read and write, the duplicate is there and valid, and a unique
//    one rejects what the original rejects;
//  - after rollback, pg_dump --schema-only of the schema is what it was before start;
//  - after complete, the index (or constraint) is back under its own name, valid, over the new
//    column, and a unique one still rejects a duplicate.
// Table-driven over index kinds (plain, unique, partial, expression, multi-column, hash with
// storage parameters, unique constraint) times changes (nullable false with up, a type, a check
// through alter_column, a check and a unique through
// create_constraint), both mechanisms.
#include <fmt/format.h>
#include <gtest/gtest.h>

#include <map>
#include <memory>

#include "support/database.hpp"
#include "support/migrations.hpp"
#include "support/two_versions.hpp"
#include "zerodown/engine/engine.hpp"

namespace zerodown::engine {
namespace {

using testing::Database;
using testing::kNew;
using testing::kOld;
using testing::RowsText;
using testing::Versions;

constexpr const char* kBaseSetup =
    "CREATE TABLE users (id int PRIMARY KEY, name text NOT NULL, email text, age int);"
    "INSERT INTO users VALUES (1, 'ann', 'a@x', 30), (2, 'bob', NULL, 12), (3, 'cy', 'c@x', 40);";

struct IndexKind {
  std::string name;   // the index's (and the constraint's) name
  std::string setup;  // creates it
  bool unique = false;
};

const std::vector<IndexKind>& Kinds() {
  static const std::vector<IndexKind> kinds = {
      {"users_email_idx", "CREATE INDEX users_email_idx ON users (email)"},
      {"users_email_uidx", "CREATE UNIQUE INDEX users_email_uidx ON users (email)", true},
      {"users_email_adult", "CREATE INDEX users_email_adult ON users (email) WHERE age >= 18"},
      {"users_email_lower",
       "CREATE INDEX users_email_lower ON users (lower(email) text_pattern_ops)"},
      {"users_name_email", "CREATE INDEX users_name_email ON users (name, email DESC)"},
      {"users_email_hash",
       "CREATE INDEX users_email_hash ON users USING hash (email) WITH (fillfactor = 70)"},
      {"users_email_key", "ALTER TABLE users ADD CONSTRAINT users_email_key UNIQUE (email)", true},
  };
  return kinds;
}

struct Change {
  std::string name;
  std::string operation;
  bool retypes = false;  // the index definition then prints casts of its own
};

const std::vector<Change>& Changes() {
  static const std::vector<Change> changes = {
      {"not_null",
       R"j({"alter_column": {"table": "users", "column": "email", "nullable": false,
           "up": "coalesce(email, name || '@none')", "down": "email"}})j"},
      {"type",
       R"j({"alter_column": {"table": "users", "column": "email", "type": "varchar(100)",
           "up": "email", "down": "email"}})j",
       true},
      {"check",
       R"j({"alter_column": {"table": "users", "column": "email",
           "check": {"name": "users_email_at", "constraint": "email LIKE '%@%'"},
           "up": "CASE WHEN email LIKE '%@%' THEN email ELSE 'z@z' || id END",
           "down": "email"}})j"},
      {"create_constraint",
       R"j({"create_constraint": {"table": "users", "name": "users_email_len", "type": "check",
           "columns": ["email"], "check": "length(email) > 2",
           "up": {"email": "CASE WHEN length(email) > 2 THEN email ELSE 'zzz' || id END"},
           "down": {"email": "email"}}})j"},
      {"create_unique",
       R"j({"create_constraint": {"table": "users", "name": "users_email_unique",
           "type": "unique", "columns": ["email"], "up": {"email": "email"},
           "down": {"email": "email"}}})j"},
  };
  return changes;
}

struct Case {
  IndexKind kind;
  Change change;
};

void PrintTo(const Case& c, std::ostream* os) { *os << c.kind.name << " " << c.change.name; }

std::vector<Case> Cases() {
  std::vector<Case> cases;
  for (const auto& kind : Kinds()) {
    for (const auto& change : Changes()) cases.push_back({kind, change});
  }
  return cases;
}

// valid|reads the column `email` of today's table, for the index named `index`.
std::string IndexOverEmail(pg::Connection& conn, const std::string& index) {
  return RowsText(conn.Exec(
      "SELECT i.indisvalid, EXISTS (SELECT 1 FROM pg_attribute a WHERE a.attrelid = i.indrelid "
      "AND a.attname = 'email' AND NOT a.attisdropped AND (a.attnum = ANY (i.indkey) OR a.attnum "
      "IN (SELECT refobjsubid FROM pg_depend WHERE objid = i.indexrelid AND refobjid = "
      "i.indrelid))) FROM pg_index i JOIN pg_class c ON c.oid = i.indexrelid WHERE c.relname = "
      "$1",
      {index}));
}

std::string IndexDefinition(pg::Connection& conn, const std::string& index) {
  return RowsText(conn.Exec(
      "SELECT pg_get_indexdef(c.oid) FROM pg_class c WHERE c.relname = $1 AND c.relkind = 'i'",
      {index}));
}

std::string Leftovers(pg::Connection& conn) {
  return RowsText(conn.Exec(
      "SELECT relname FROM pg_class WHERE relname LIKE '\\_zd\\_%' AND relnamespace = "
      "'public'::regnamespace UNION ALL SELECT attname FROM "
      "pg_attribute WHERE attrelid = 'public.users'::regclass AND attname LIKE '\\_zd\\_%' AND "
      "NOT attisdropped ORDER BY 1"));
}

class IndexedColumnChangeTest : public ::testing::TestWithParam<Case> {
 protected:
  std::string SetUp(const std::string& suffix) {
    const Case& c = GetParam();
    return testing::PreparedDatabase(c.kind.name + "_" + c.change.name + suffix,
                                     std::string(kBaseSetup) + c.kind.setup + ";");
  }

  // Both versions write and read each other's rows; the duplicate is built and valid.
  void AfterStart(const std::string& db, const std::string& version) {
    const Case& c = GetParam();
    Versions apps(db, version);
    apps.Run({{kOld, "INSERT INTO users (id, name, email, age) VALUES (4, 'dee', 'd@x', 20)"},
              {kNew, "INSERT INTO users (id, name, email, age) VALUES (5, 'eve', 'e@x', 50)"},
              {kNew, "UPDATE users SET email = 'dd@x' WHERE id = 4"},
              {kOld, "SELECT email FROM users WHERE id IN (4, 5) ORDER BY id", "dd@x;e@x"},
              {kNew, "SELECT email FROM users WHERE id IN (4, 5) ORDER BY id", "dd@x;e@x"}},
             "after start");
    if (c.kind.unique) {
      apps.Run({{kNew, "INSERT INTO users (id, name, email) VALUES (6, 'fay', 'a@x')", "!23505"},
                {kOld, "INSERT INTO users (id, name, email) VALUES (6, 'fay', 'a@x')", "!23505"}},
               "after start");
    }
    pg::Connection conn = testing::Connect(db);
    // The duplicate is named after the original's oid.
    std::string temp =
        RowsText(conn.Exec("SELECT '_zd_dup_' || to_regclass($1)::oid", {"public." + c.kind.name}));
    EXPECT_EQ(RowsText(conn.Exec("SELECT indisvalid FROM pg_index WHERE indexrelid = "
                                 "to_regclass($1)",
                                 {"public." + temp})),
              "t")
        << "the duplicate is built and valid";
    EXPECT_NE(IndexDefinition(conn, temp).find("_zd_new_email"), std::string::npos)
        << IndexDefinition(conn, temp);
  }
};

TEST_P(IndexedColumnChangeTest, StartThenRollbackLeavesTheSchemaAsItWas) {
  std::string db = SetUp("_r");
  testing::CaseRun run(db);
  std::string before = testing::SchemaDump(db);
  ASSERT_NE(before.find(GetParam().kind.name), std::string::npos) << before;
  run.Start("m", GetParam().change.operation);
  AfterStart(db, run.version());
  run.Rollback();
  EXPECT_EQ(testing::SchemaDump(db), before);
  EXPECT_EQ(Leftovers(run.conn()), "");
  EXPECT_EQ(RowsText(run.conn().Exec("SELECT count(*) FROM users")), "5") << "every write is kept";
}

TEST_P(IndexedColumnChangeTest, StartThenCompleteLeavesTheIndexUnderItsNameOverTheNewColumn) {
  const Case& c = GetParam();
  std::string db = SetUp("_c");
  testing::CaseRun run(db);
  pg::Connection& conn = run.conn();
  std::string definition = IndexDefinition(conn, c.kind.name);
  run.Start("m", c.change.operation);
  AfterStart(db, run.version());
  run.Complete();
  EXPECT_EQ(IndexOverEmail(conn, c.kind.name), "t|t");
  if (!c.change.retypes) {
    EXPECT_EQ(IndexDefinition(conn, c.kind.name), definition);
  }
  EXPECT_EQ(Leftovers(conn), "");
  if (c.kind.name == "users_email_key") {
    EXPECT_EQ(RowsText(conn.Exec("SELECT contype, pg_get_constraintdef(oid) FROM pg_constraint "
                                 "WHERE conname = 'users_email_key'")),
              "u|UNIQUE (email)");
  }
  if (c.kind.unique) {
    // With a second unique constraint over the column, either may report the duplicate.
    Versions apps(db, "public");
    apps.Run({{kOld, "INSERT INTO users (id, name, email) VALUES (6, 'fay', 'a@x')",
               c.change.name == "create_unique" ? "!23505" : "!23505 " + c.kind.name}},
             "after complete");
  }
}

INSTANTIATE_TEST_SUITE_P(Kinds, IndexedColumnChangeTest, ::testing::ValuesIn(Cases()),
                         [](const ::testing::TestParamInfo<Case>& info) {
                           return info.param.kind.name + "_" + info.param.change.name;
                         });

// Every kind at once on one table, under each mechanism: the shadow copy builds the originals on
// its new heap and swaps them in; the duplicates are built after the swap.
class AllKindsTest : public ::testing::TestWithParam<Mechanism> {
 protected:
  std::string SetUp(const std::string& suffix) {
    std::string setup = kBaseSetup;
    for (const auto& kind : Kinds()) setup += kind.setup + ";";
    return testing::PreparedDatabase(
        fmt::format("all_kinds_{}{}", MechanismName(GetParam()), suffix), setup);
  }
  EngineOptions Options() const {
    EngineOptions options = testing::FastEngineOptions();
    options.mechanism = GetParam();
    return options;
  }
  static constexpr const char* kOperation =
      R"j({"alter_column": {"table": "users", "column": "email", "nullable": false,
          "up": "coalesce(email, name || '@none')", "down": "email"}})j";
};

TEST_P(AllKindsTest, StartThenCompleteKeepsEveryIndex) {
  testing::CaseRun run(SetUp("_c"), Options());
  pg::Connection& conn = run.conn();
  std::map<std::string, std::string> definitions;
  for (const auto& kind : Kinds()) definitions[kind.name] = IndexDefinition(conn, kind.name);
  run.Start("m", kOperation,
            {{kOld, "INSERT INTO users (id, name, email, age) VALUES (4, 'dee', 'd@x', 20)"},
             {kNew, "INSERT INTO users (id, name, email, age) VALUES (5, 'eve', 'e@x', 50)"},
             {kNew, "INSERT INTO users (id, name, email) VALUES (6, 'fay', 'a@x')", "!23505"},
             {kOld, "SELECT count(*) FROM pg_class WHERE relname LIKE '\\_zd\\_dup\\_%'",
              std::to_string(Kinds().size())}});
  run.Complete();
  for (const auto& kind : Kinds()) {
    EXPECT_EQ(IndexOverEmail(conn, kind.name), "t|t") << kind.name;
    EXPECT_EQ(IndexDefinition(conn, kind.name), definitions[kind.name]);
  }
  EXPECT_EQ(Leftovers(conn), "");
  EXPECT_EQ(RowsText(conn.Exec("SELECT email FROM users WHERE id = 2")), "bob@none");
}

TEST_P(AllKindsTest, StartThenRollbackLeavesTheSchemaAsItWas) {
  std::string db = SetUp("_r");
  testing::CaseRun run(db, Options());
  std::string before = testing::SchemaDump(db);
  run.Start("m", kOperation);
  run.Rollback();
  EXPECT_EQ(testing::SchemaDump(db), before);
  EXPECT_EQ(Leftovers(run.conn()), "");
}

INSTANTIATE_TEST_SUITE_P(Mechanisms, AllKindsTest,
                         ::testing::Values(Mechanism::kInPlace, Mechanism::kShadow),
                         [](const ::testing::TestParamInfo<Mechanism>& info) {
                           return std::string(MechanismName(info.param));
                         });

// What cannot be carried over is refused before anything changes, naming the index and the fix.
TEST(IndexedColumnRefusalTest, ExclusionConstraintAndInvalidIndexAreRefused) {
  std::string db = Database("indexed_refusals");
  pg::Connection conn = testing::Connect(db);
  conn.Run(std::string(kBaseSetup) +
           "ALTER TABLE users ADD CONSTRAINT users_email_excl EXCLUDE USING btree (email WITH =);"
           "CREATE TABLE teams (id int PRIMARY KEY, code text);"
           "INSERT INTO teams VALUES (1, 'a'), (2, 'a');");
  // A unique build that fails on duplicates leaves an invalid index behind, as in production.
  EXPECT_FALSE(
      conn.TryExec("CREATE UNIQUE INDEX CONCURRENTLY teams_code_key ON teams (code)").ok());
  State(conn).Init();
  std::string before = testing::SchemaDump(db);
  SilentProgress progress;
  Engine engine(conn, testing::FastEngineOptions(), progress);
  struct Bad {
    std::string operation;
    std::string needle;
  };
  for (const Bad& bad : std::vector<Bad>{
           {R"j({"alter_column": {"table": "users", "column": "email", "nullable": false,
                "up": "coalesce(email, 'x')", "down": "email"}})j",
            "users_email_excl"},
           {R"j({"alter_column": {"table": "teams", "column": "code", "type": "varchar(10)",
                "up": "code", "down": "code"}})j",
            "index \"teams_code_key\" over the changed column cannot be carried over to its copy: "
            "it is invalid"}}) {
    try {
      engine.Start(testing::ParseOperations("bad", bad.operation));
      ADD_FAILURE() << "expected an error for " << bad.operation;
    } catch (const Error& error) {
      EXPECT_EQ(error.kind(), ErrorKind::kInvalidMigration);
      EXPECT_NE(error.Describe().find(bad.needle), std::string::npos) << error.Describe();
    }
  }
  EXPECT_EQ(testing::SchemaDump(db), before);
}

// An `up` that gives two rows one value fails the duplicate of a unique index halfway through
// start (CREATE UNIQUE INDEX CONCURRENTLY leaves an invalid index behind): start rolls back, and
// the invalid duplicate goes with the copy.
TEST(IndexedColumnFailureTest, AUniqueDuplicateThatCannotBeBuiltRollsTheStartBack) {
  std::string db = Database("indexed_failed_build");
  pg::Connection conn = testing::Connect(db);
  conn.Run(std::string(kBaseSetup) + "CREATE UNIQUE INDEX users_email_uidx ON users (email);");
  State(conn).Init();
  std::string before = testing::SchemaDump(db);
  SilentProgress progress;
  Engine engine(conn, testing::FastEngineOptions(), progress);
  try {
    engine.Start(testing::ParseOperations(
        "same", R"j({"alter_column": {"table": "users", "column": "email", "nullable": false,
                    "up": "'same@x'", "down": "email"}})j"));
    ADD_FAILURE() << "an up that maps every row to one value cannot fill a unique index";
  } catch (const Error& error) {
    EXPECT_NE(error.Describe().find("SQLSTATE 23505"), std::string::npos) << error.Describe();
  }
  EXPECT_EQ(testing::SchemaDump(db), before);
  EXPECT_EQ(Leftovers(conn), "");
  EXPECT_FALSE(State(conn).Active("public").has_value());
}

}  // namespace
}  // namespace zerodown::engine
