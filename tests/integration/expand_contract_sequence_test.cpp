// Migrations one after another: the previous migration's version schema is the old version while
// the next one runs, and the next complete drops it; and the tutorial migration set applied by
// the zerodown binary with `migrate` leaves the catalog a plain CREATE/ALTER script would.
#include <fmt/format.h>
#include <gtest/gtest.h>

#include "support/database.hpp"
#include "support/migrations.hpp"
#include "zerodown/engine/engine.hpp"
#include "zerodown/model/migration_reader.hpp"
#include "zerodown/pg/catalog.hpp"

namespace zerodown::engine {
namespace {

pg::Connection OnVersion(const std::string& db, const std::string& schema) {
  pg::Connection conn = testing::Connect(db);
  conn.Exec("SELECT set_config('search_path', $1, false)", {schema});
  return conn;
}

std::string Column(pg::Connection& conn, const std::string& schema, const std::string& table,
                   const std::string& column) {
  auto info = pg::DescribeTable(conn, schema, table);
  if (!info) return "(no table)";
  const pg::ColumnInfo* c = info->FindColumn(column);
  if (!c) return "(no column)";
  return c->type + (c->not_null ? " not null" : "") +
         (c->default_expr ? " default " + *c->default_expr : "");
}

// Start refuses `migration` as invalid, naming `why`, and leaves no migration in progress.
Error ExpectRefused(Engine& engine, pg::Connection& conn, const model::Migration& migration,
                    const std::string& why) {
  try {
    engine.Start(migration);
    ADD_FAILURE() << migration.name << " started";
  } catch (const Error& error) {
    EXPECT_EQ(error.kind(), ErrorKind::kInvalidMigration) << error.message();
    EXPECT_NE(error.message().find(why), std::string::npos) << error.message();
    EXPECT_FALSE(State(conn).Active("public").has_value());
    return error;
  }
  return Error(ErrorKind::kInternal, "started");
}

TEST(ExpandContractSequenceTest, SecondMigrationRunsBesideTheFirstsViewsAndCompleteDropsThem) {
  std::string db = testing::FreshDatabase();
  pg::Connection conn = testing::Connect(db);
  conn.Run(
      "CREATE TABLE users (id int PRIMARY KEY, name text NOT NULL, age int);"
      "INSERT INTO users VALUES (1, 'ann', 30), (2, 'bob', 40);");
  State(conn).Init();
  SilentProgress progress;
  Engine engine(conn, testing::FastEngineOptions(), progress);
  engine.Start(testing::ParseOperations(
      "m1", R"zd({"add_column": {"table": "users", "column": {"name": "email",
      "type": "text", "nullable": true}}})zd"));
  engine.Complete();
  ASSERT_TRUE(pg::SchemaExists(conn, "public_m1"));

  // m2 drops the physical `age` on complete, which public_m1's view still shows: complete must
  // drop the previous version's views before it can drop the column.
  auto record = engine.Start(
      testing::ParseOperations("m2", R"zd({"alter_column": {"table": "users", "column": "age",
      "type": "bigint", "up": "age", "down": "age::integer"}})zd"));
  EXPECT_EQ(record.plan.version_schema, "public_m2");
  pg::Connection v1 = OnVersion(db, "public_m1");
  pg::Connection v2 = OnVersion(db, "public_m2");
  v1.Exec("INSERT INTO users (id, name, age, email) VALUES (3, 'cy', 33, 'c@x')");
  EXPECT_EQ(v2.Exec("SELECT age, email FROM users WHERE id = 3").Text(0, 0), "33");
  v2.Exec("UPDATE users SET age = 44, email = 'b@x' WHERE id = 2");
  pg::Rows seen = v1.Exec("SELECT age, email FROM users WHERE id = 2");
  EXPECT_EQ(seen.Text(0, 0), "44");
  EXPECT_EQ(seen.Text(0, 1), "b@x");

  engine.Complete();
  EXPECT_FALSE(pg::SchemaExists(conn, "public_m1")) << "the previous version goes on complete";
  EXPECT_TRUE(pg::SchemaExists(conn, "public_m2"));
  EXPECT_EQ(Column(conn, "public", "users", "age"), "bigint");
  EXPECT_EQ(v2.Exec("SELECT string_agg(id || ':' || age, ',' ORDER BY id) FROM users").Text(0, 0),
            "1:30,2:44,3:33");
  EXPECT_FALSE(v1.TryExec("SELECT 1 FROM users").ok()) << "the old version's views are gone";
}

TEST(ExpandContractSequenceTest, RollbackOfTheSecondKeepsTheFirstVersionWorking) {
  std::string db = testing::FreshDatabase();
  pg::Connection conn = testing::Connect(db);
  conn.Run(
      "CREATE TABLE users (id int PRIMARY KEY, name text NOT NULL);"
      "INSERT INTO users VALUES (1, 'ann');");
  State(conn).Init();
  SilentProgress progress;
  Engine engine(conn, testing::FastEngineOptions(), progress);
  engine.Start(
      testing::ParseOperations("m1", R"zd({"rename_column": {"table": "users", "from": "name",
      "to": "full_name"}})zd"));
  engine.Complete();
  engine.Start(
      testing::ParseOperations("m2", R"zd({"drop_column": {"table": "users", "column": "full_name",
      "down": "'?'"}})zd"));
  pg::Connection v2 = OnVersion(db, "public_m2");
  v2.Exec("INSERT INTO users (id) VALUES (2)");
  engine.Rollback();
  EXPECT_FALSE(pg::SchemaExists(conn, "public_m2"));
  pg::Connection v1 = OnVersion(db, "public_m1");
  EXPECT_EQ(
      v1.Exec("SELECT string_agg(id || ':' || full_name, ',' ORDER BY id) FROM users").Text(0, 0),
      "1:ann,2:?");
  EXPECT_EQ(engine.Status().search_path, "public_m1");
}

// A rebuild that changes no column keeps the version it ran under: the tables' own schema when
// it is the first migration. The next migration's complete retires the previous version schema,
// which here must not mean `DROP SCHEMA public CASCADE`.
TEST(ExpandContractSequenceTest, AColumnChangeAfterARebuildLeavesTheTablesSchemaAlone) {
  std::string db = testing::FreshDatabase();
  pg::Connection conn = testing::Connect(db);
  conn.Run(
      "CREATE TABLE users (id int PRIMARY KEY, name text NOT NULL);"
      "CREATE TABLE orders (id int PRIMARY KEY, total int);"
      "INSERT INTO users VALUES (1, 'ann'), (2, 'bob'); INSERT INTO orders VALUES (7, 70);");
  State(conn).Init();
  SilentProgress progress;
  Engine engine(conn, testing::FastEngineOptions(), progress);
  engine.Start(testing::ParseOperations("m1", R"zd({"rebuild_table": {"table": "users"}})zd"));
  engine.Complete();
  ASSERT_EQ(engine.Status().search_path, "public");

  auto m2 = testing::ParseOperations("m2", R"zd({"add_column": {"table": "users", "column":
      {"name": "email", "type": "text", "nullable": true}}})zd");
  for (const auto& action : engine.PlanOnly(m2).complete) {
    for (const auto& sql : action.sql) {
      EXPECT_EQ(sql.find("DROP SCHEMA IF EXISTS \"public\""), std::string::npos) << sql;
    }
  }
  engine.Start(m2);
  engine.Complete();
  EXPECT_EQ(conn.Exec("SELECT string_agg(id || ':' || name, ',' ORDER BY id) FROM public.users")
                .Text(0, 0),
            "1:ann,2:bob");
  EXPECT_EQ(conn.Exec("SELECT total FROM public.orders").Text(0, 0), "70");
  EXPECT_EQ(Column(conn, "public", "users", "email"), "text");
  EXPECT_TRUE(pg::SchemaExists(conn, "public_m2"));
}

// start re-creates the version schema, rollback drops it with CASCADE: a name that points at a
// schema holding data is refused before anything changes.
TEST(ExpandContractSequenceTest, AVersionSchemaThatHoldsDataIsRefusedBeforeAnyChange) {
  std::string db = testing::FreshDatabase();
  pg::Connection conn = testing::Connect(db);
  conn.Run(
      "CREATE TABLE users (id int PRIMARY KEY, name text NOT NULL);"
      "INSERT INTO users VALUES (1, 'ann');"
      "CREATE SCHEMA app; CREATE TABLE app.keep (v int); INSERT INTO app.keep VALUES (5);"
      "CREATE SCHEMA spare;");
  State(conn).Init();
  SilentProgress progress;
  Engine engine(conn, testing::FastEngineOptions(), progress);
  auto named = [](const std::string& name, const std::string& schema) {
    std::string json = fmt::format(
        R"zd({{"name": "{0}", "version_schema": "{1}", "operations": [{{"add_column": {{"table":
        "users", "column": {{"name": "{0}_note", "type": "text", "nullable": true}}}}}}]}})zd",
        name, schema);
    return model::ParseMigration(json, model::Format::kJson, name + ".json").ValueOrThrow();
  };
  auto refused = [&](const model::Migration& migration, const std::string& why) {
    Error error = ExpectRefused(engine, conn, migration, why);
    EXPECT_NE(error.where().find("field version_schema"), std::string::npos) << error.where();
  };
  refused(named("m0", "public"), "is the schema the tables live in");
  refused(named("m0", "app"), "holds 1 object zerodown did not make");
  conn.Run("CREATE SCHEMA api; CREATE VIEW api.people AS SELECT id FROM users WHERE id > 0;");
  refused(named("m0", "api"), "holds 1 object zerodown did not make");
  EXPECT_TRUE(conn.Exec("SELECT to_regclass('api.people') IS NOT NULL").Bool(0, 0));
  EXPECT_EQ(Column(conn, "public", "users", "m0_note"), "(no column)");
  EXPECT_EQ(conn.Exec("SELECT v FROM app.keep").Text(0, 0), "5");

  engine.Start(named("m1", "spare"));  // empty: start makes it the version schema
  engine.Complete();
  refused(named("m2", "spare"), "is the version applications use now");
  EXPECT_EQ(engine.Status().search_path, "spare");

  // The same file run for another tenant's schema would re-create public's live version over
  // tenant_b's tables.
  conn.Run("CREATE SCHEMA tenant_b; CREATE TABLE tenant_b.users (id int PRIMARY KEY, name text);");
  EngineOptions options = testing::FastEngineOptions();
  options.schema = "tenant_b";
  Engine tenant(conn, options, progress);
  try {
    tenant.Start(named("m1", "spare"));
    ADD_FAILURE() << "tenant_b's start took over public's version schema";
  } catch (const Error& error) {
    EXPECT_NE(error.message().find("is in use by the migrations of schema \"public\""),
              std::string::npos)
        << error.message();
  }
  EXPECT_EQ(OnVersion(db, "spare").Exec("SELECT count(*) FROM users").Text(0, 0), "1")
      << "public's version still shows public's rows";
}

// Something other than views put into a version schema later, or a view elsewhere reading one of
// its views, stops the drop that would take it with the schema: the next complete fails, keeps
// it, and goes through once it is moved or dropped.
TEST(ExpandContractSequenceTest, CompleteKeepsWhatSomeoneBuiltInOrOnThePreviousVersionSchema) {
  std::string db = testing::FreshDatabase();
  pg::Connection conn = testing::Connect(db);
  conn.Run("CREATE TABLE users (id int PRIMARY KEY, name text NOT NULL);");
  State(conn).Init();
  SilentProgress progress;
  Engine engine(conn, testing::FastEngineOptions(), progress);
  engine.Start(testing::ParseOperations("m1", R"zd({"add_column": {"table": "users", "column":
      {"name": "email", "type": "text", "nullable": true}}})zd"));
  engine.Complete();
  conn.Run("CREATE TABLE public_m1.notes (v int); INSERT INTO public_m1.notes VALUES (9);");
  engine.Start(testing::ParseOperations("m2", R"zd({"add_column": {"table": "users", "column":
      {"name": "age", "type": "int", "nullable": true}}})zd"));
  try {
    engine.Complete();
    ADD_FAILURE() << "complete dropped public_m1 with a table in it";
  } catch (const Error& error) {
    EXPECT_NE(error.message().find("holds objects other than views"), std::string::npos)
        << error.message();
  }
  EXPECT_EQ(conn.Exec("SELECT v FROM public_m1.notes").Text(0, 0), "9");
  conn.Run("ALTER TABLE public_m1.notes SET SCHEMA public;");
  engine.Complete();
  EXPECT_FALSE(pg::SchemaExists(conn, "public_m1"));
  EXPECT_EQ(conn.Exec("SELECT v FROM public.notes").Text(0, 0), "9");
  EXPECT_EQ(Column(conn, "public", "users", "age"), "integer");

  // A view elsewhere that reads the version's view would go with DROP SCHEMA … CASCADE.
  conn.Run(
      "CREATE SCHEMA reporting; CREATE VIEW reporting.ages AS SELECT age FROM public_m2.users;");
  engine.Start(testing::ParseOperations("m3", R"zd({"add_column": {"table": "users", "column":
      {"name": "tier", "type": "text", "nullable": true}}})zd"));
  try {
    engine.Complete();
    ADD_FAILURE() << "complete dropped public_m2 and the view reading it";
  } catch (const Error& error) {
    EXPECT_NE(error.message().find("reporting.ages depends on a view of the version schema"),
              std::string::npos)
        << error.message();
  }
  EXPECT_TRUE(conn.Exec("SELECT to_regclass('reporting.ages') IS NOT NULL").Bool(0, 0));
  conn.Run("DROP VIEW reporting.ages;");
  engine.Complete();
  EXPECT_FALSE(pg::SchemaExists(conn, "public_m2"));
}

// Renames and drops run at complete, creations at start: a table or column created under a name
// an earlier operation frees would find the original still there, CREATE … IF NOT EXISTS would
// do nothing, and a rollback would drop the original with its rows. Refused before any change.
TEST(ExpandContractSequenceTest, ANameTakenUntilCompleteCannotBeCreatedAgainInTheSameMigration) {
  std::string db = testing::FreshDatabase();
  pg::Connection conn = testing::Connect(db);
  conn.Run(
      "CREATE TABLE users (id int PRIMARY KEY, email text);"
      "INSERT INTO users VALUES (1, 'a@x'), (2, 'b@x');");
  State(conn).Init();
  SilentProgress progress;
  Engine engine(conn, testing::FastEngineOptions(), progress);
  auto refused = [&](const model::Migration& migration, const std::string& why) {
    ExpectRefused(engine, conn, migration, why);
    EXPECT_EQ(
        conn.Exec("SELECT string_agg(id || ':' || email, ',' ORDER BY id) FROM users").Text(0, 0),
        "1:a@x,2:b@x");
  };
  refused(
      testing::ParseOperations("m1", R"zd({"rename_table": {"from": "users", "to": "users_legacy"}},
              {"create_table": {"name": "users", "columns": [{"name": "id", "type": "bigint",
              "pk": true}, {"name": "login", "type": "text", "nullable": true}]}})zd"),
      "\"users\" still names a table");
  refused(testing::ParseOperations("m2", R"zd({"drop_table": {"name": "users"}},
              {"create_table": {"name": "users", "columns": [{"name": "id", "type": "int",
              "pk": true}, {"name": "email", "type": "text", "nullable": true}]}})zd"),
          "\"users\" still names a table");
  refused(testing::ParseOperations(
              "m3", R"zd({"rename_column": {"table": "users", "from": "email", "to": "email_old"}},
              {"add_column": {"table": "users", "column": {"name": "email", "type": "text",
              "nullable": true}}})zd"),
          "still has a column \"email\"");
  EXPECT_EQ(Column(conn, "public", "users", "email"), "text");

  // The unique index add_column builds takes PostgreSQL's name for it, and a rerun of start
  // drops what a failed build left under that name: a user's index there is refused, not dropped.
  conn.Run("CREATE INDEX users_nick_key ON users (email);");
  refused(testing::ParseOperations("m4", R"zd({"add_column": {"table": "users", "column":
              {"name": "nick", "type": "text", "nullable": true, "unique": true}}})zd"),
          "would be named \"users_nick_key\"");
  EXPECT_TRUE(conn.Exec("SELECT to_regclass('users_nick_key') IS NOT NULL").Bool(0, 0));
}

// examples/tutorial on a database that already holds pgbench's tables: migrate applies the four
// steps, leaves customers as the plain DDL would, keeps pgbench's tables reachable through the
// final version, and a second run has nothing to do.
TEST(ExpandContractSequenceTest, MigrateAppliesTheTutorialLikeAPlainScript) {
  std::string db = testing::FreshDatabase();
  pg::Connection conn = testing::Connect(db);
  conn.Run(
      "CREATE TABLE pgbench_branches (bid int PRIMARY KEY, bbalance int, filler char(88));"
      "CREATE TABLE pgbench_accounts (aid int PRIMARY KEY, bid int, abalance int, filler "
      "char(84));"
      "INSERT INTO pgbench_branches VALUES (1, 0, '');"
      "INSERT INTO pgbench_accounts SELECT g, 1, g % 100, '' FROM generate_series(1, 2000) g;");
  std::string out;
  ASSERT_EQ(testing::RunZerodown("--postgres-url '" + db + "' init", &out), 0) << out;
  ASSERT_EQ(
      testing::RunZerodown(
          "--postgres-url '" + db + "' migrate " ZERODOWN_SOURCE_DIR "/examples/tutorial", &out),
      0)
      << out;
  EXPECT_NE(out.find("4 migration(s) applied"), std::string::npos) << out;

  auto customers = pg::DescribeTable(conn, "public", "customers");
  ASSERT_TRUE(customers);
  EXPECT_EQ(Column(conn, "public", "customers", "id"), "bigint not null");
  EXPECT_EQ(Column(conn, "public", "customers", "name"), "text not null");
  EXPECT_EQ(Column(conn, "public", "customers", "balance"), "bigint not null default 0");
  EXPECT_EQ(Column(conn, "public", "customers", "created_at"),
            "timestamp with time zone not null default now()");
  EXPECT_EQ(Column(conn, "public", "customers", "tier"), "text not null default 'standard'::text");
  ASSERT_NE(customers->FindIndex("customers_tier_balance_idx"), nullptr);
  EXPECT_EQ(customers->FindIndex("customers_tier_balance_idx")->definition,
            "CREATE INDEX customers_tier_balance_idx ON public.customers USING btree (tier, "
            "balance DESC)");
  EXPECT_TRUE(customers->triggers.empty());
  EXPECT_EQ(customers->constraints.size(), 1u) << "only the primary key";

  pg::Rows history = conn.Exec(
      "SELECT string_agg(name || ':' || phase, ',' ORDER BY created_at) FROM zerodown.migrations");
  EXPECT_EQ(history.Text(0, 0),
            "01_create_customers:complete,02_add_tier:complete,03_balance_to_bigint:complete,"
            "04_index_tier_balance:complete");
  pg::Rows schemas = conn.Exec(
      "SELECT string_agg(nspname, ',') FROM pg_namespace WHERE nspname LIKE 'public\\_%'");
  EXPECT_EQ(schemas.Text(0, 0), "public_04_index_tier_balance") << "only the last version";

  pg::Connection app = OnVersion(db, "public_04_index_tier_balance");
  EXPECT_EQ(app.Exec("SELECT sum(abalance) FROM pgbench_accounts").Int(0, 0), 99000);
  app.Exec("INSERT INTO customers (id, name, balance) VALUES (1, 'ann', 5000000000)");
  EXPECT_EQ(conn.Exec("SELECT tier || ' ' || balance FROM customers").Text(0, 0),
            "standard 5000000000");

  ASSERT_EQ(
      testing::RunZerodown(
          "--postgres-url '" + db + "' migrate " ZERODOWN_SOURCE_DIR "/examples/tutorial", &out),
      0)
      << out;
  EXPECT_NE(out.find("nothing to apply"), std::string::npos) << out;
}

}  // namespace
}  // namespace zerodown::engine
