// Every supported operation, on a real server, against the three promises of expand/contract:
//  - after start, the old version (the physical tables, search_path=public) and the new version
//    (search_path=<version schema>) both read and write, and each sees the other's writes;
//  - after complete, the catalog is what a plain ALTER would have produced, and nothing of
//    zerodown's (_zd_ columns, triggers, functions, constraints, old version schemas) is left;
//  - after rollback, the catalog is exactly as before start and the rows are the old rows plus
//    every write made through either version.
// Table-driven like pgroll's op tests: each case has a setup, a migration, the plain SQL it
// stands for, and steps (SQL through one version, with the expected rows) after start, complete
// and rollback.
#include <fmt/format.h>
#include <gtest/gtest.h>

#include <algorithm>
#include <functional>

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
  std::string plain;  // what a plain ALTER would have run instead (the catalog to match)
  std::vector<Step> after_start;
  std::vector<Step> after_complete;
  std::vector<Step> after_rollback;  // run through the old version after rollback
};

void PrintTo(const Case& c, std::ostream* os) { *os << c.name; }

constexpr const char* kBaseSetup =
    "CREATE TABLE users (id int PRIMARY KEY, name text NOT NULL, age int, note text DEFAULT 'x');"
    "COMMENT ON COLUMN users.note IS 'free text';"
    "INSERT INTO users VALUES (1, 'ann', 30, 'a'), (2, 'bob', NULL, 'b');";

// The catalog of `schema` as text, in a canonical order: columns by name (expand/contract moves a
// changed column to the end of the table, which no query by name can observe), then constraints,
// indexes, triggers and comments.
std::string Catalog(pg::Connection& conn, const std::string& schema = "public") {
  std::string out;
  for (const auto& name : pg::ListTables(conn, schema)) {
    auto table = pg::DescribeTable(conn, schema, name);
    if (!table) continue;
    std::vector<std::string> lines;
    for (const auto& c : table->columns) {
      lines.push_back(fmt::format(
          "column {} {}{}{}{}", c.name, c.type, c.not_null ? " not null" : "",
          c.default_expr ? " default " + *c.default_expr : "", c.identity ? " identity" : ""));
    }
    for (const auto& k : table->constraints) {
      lines.push_back(fmt::format("constraint {} {} {}{}", k.name, k.type, k.definition,
                                  k.validated ? "" : " NOT VALID"));
    }
    for (const auto& i : table->indexes) {
      lines.push_back(fmt::format("index {}{}", i.definition, i.valid ? "" : " INVALID"));
    }
    for (const auto& t : table->triggers) lines.push_back("trigger " + t.name);
    pg::Rows comments = conn.Exec(
        "SELECT coalesce(a.attname, '(table)'), d.description FROM pg_description d "
        "LEFT JOIN pg_attribute a ON a.attrelid = d.objoid AND a.attnum = d.objsubid "
        "WHERE d.objoid = $1::regclass AND d.classoid = 'pg_class'::regclass",
        {conn.Ident(schema, name)});
    for (int r = 0; r < comments.size(); ++r) {
      lines.push_back(fmt::format("comment {} {}", comments.Text(r, 0), comments.Text(r, 1)));
    }
    std::sort(lines.begin(), lines.end());
    out += "table " + name + "\n";
    for (const auto& l : lines) out += "  " + l + "\n";
  }
  return out;
}

// Everything zerodown adds while a migration runs, that must be gone once it is over: _zd_
// objects anywhere, and any schema but public, zerodown's own and `keep` (the current version).
std::string Leftovers(pg::Connection& conn, const std::string& keep) {
  return RowsText(conn.Exec(
      "SELECT 'column ' || attrelid::regclass || '.' || attname FROM pg_attribute "
      "WHERE attname LIKE '\\_zd\\_%' AND attnum > 0 AND NOT attisdropped "
      "UNION ALL SELECT 'trigger ' || tgname FROM pg_trigger WHERE tgname LIKE '\\_zd\\_%' "
      "OR tgname LIKE '~zd\\_%' "
      "UNION ALL SELECT 'function ' || proname FROM pg_proc WHERE proname LIKE '\\_zd\\_%' "
      "UNION ALL SELECT 'constraint ' || conname FROM pg_constraint WHERE conname LIKE '\\_zd\\_%' "
      "UNION ALL SELECT 'relation ' || relname FROM pg_class WHERE relname LIKE '\\_zd\\_%' "
      "UNION ALL SELECT 'schema ' || nspname FROM pg_namespace WHERE nspname NOT IN "
      "('public', 'zerodown', 'information_schema', $1) AND nspname NOT LIKE 'pg\\_%' "
      "ORDER BY 1",
      {keep}));
}

const std::vector<Case>& Cases() {
  static const std::vector<Case> cases = {
      {"add_column_nullable",
       "",
       R"zd({"add_column": {"table": "users", "column": {"name": "email", "type": "text",
           "nullable": true}}})zd",
       "ALTER TABLE users ADD COLUMN email text",
       {{kNew, "INSERT INTO users (id, name, email) VALUES (3, 'cy', 'c@x')"},
        {kOld, "INSERT INTO users (id, name, age) VALUES (4, 'dee', 40)"},
        {kOld, "UPDATE users SET name = 'ann2' WHERE id = 1"},
        {kNew, "UPDATE users SET email = 'b@x' WHERE id = 2"},
        {kNew, "SELECT id, name, email FROM users ORDER BY id",
         "1|ann2|NULL;2|bob|b@x;3|cy|c@x;4|dee|NULL"},
        {kOld, "SELECT id, name, age, note FROM users ORDER BY id",
         "1|ann2|30|a;2|bob|NULL|b;3|cy|NULL|x;4|dee|40|x"}},
       {{kOld, "SELECT id, email FROM users ORDER BY id", "1|NULL;2|b@x;3|c@x;4|NULL"},
        {kNew, "SELECT id, email FROM users ORDER BY id", "1|NULL;2|b@x;3|c@x;4|NULL"}},
       {{kOld, "SELECT * FROM users ORDER BY id",
         "1|ann2|30|a;2|bob|NULL|b;3|cy|NULL|x;4|dee|40|x"}}},

      // The tutorial's shape: NOT NULL with a default and `up`. Existing rows and rows the old
      // version inserts get up(row); rows the new version inserts get the default.
      {"add_column_not_null_default_up",
       "",
       R"zd({"add_column": {"table": "users", "column": {"name": "tier", "type": "text",
           "default": "'standard'"}, "up": "CASE WHEN age >= 30 THEN 'gold' ELSE 'standard' END"}})zd",
       "ALTER TABLE users ADD COLUMN tier text NOT NULL DEFAULT 'standard'",
       {{kNew, "SELECT id, tier FROM users ORDER BY id", "1|gold;2|standard"},
        {kOld, "INSERT INTO users (id, name, age) VALUES (3, 'cy', 50)"},
        {kNew, "INSERT INTO users (id, name, age) VALUES (4, 'dee', 60)"},
        {kNew, "INSERT INTO users (id, name, tier) VALUES (5, 'eve', 'vip')"},
        // An old-version update cannot set tier: up follows it. A write that sets tier keeps it.
        {kOld, "UPDATE users SET age = 35 WHERE id = 2"},
        {kNew, "SELECT tier FROM users WHERE id = 2", "gold"},
        {kNew, "UPDATE users SET tier = 'vip', name = 'bob2' WHERE id = 2"},
        {kNew, "SELECT id, tier FROM users ORDER BY id", "1|gold;2|vip;3|gold;4|standard;5|vip"},
        {kOld, "SELECT id, name, age FROM users ORDER BY id",
         "1|ann|30;2|bob2|35;3|cy|50;4|dee|60;5|eve|NULL"}},
       {{kOld, "SELECT id, tier FROM users ORDER BY id", "1|gold;2|vip;3|gold;4|standard;5|vip"},
        {kOld, "INSERT INTO users (id, name) VALUES (6, 'fay') RETURNING tier", "standard"}},
       {{kOld, "SELECT * FROM users ORDER BY id",
         "1|ann|30|a;2|bob2|35|b;3|cy|50|x;4|dee|60|x;5|eve|NULL|x"}}},

      {"add_column_unique",
       "",
       R"zd({"add_column": {"table": "users", "column": {"name": "code", "type": "text",
           "nullable": true, "unique": true}}})zd",
       "ALTER TABLE users ADD COLUMN code text UNIQUE",
       {{kNew, "UPDATE users SET code = 'A' WHERE id = 1"},
        {kOld, "INSERT INTO users (id, name) VALUES (3, 'cy')"},
        {kNew, "INSERT INTO users (id, name, code) VALUES (4, 'dee', 'B')"},
        {kNew, "UPDATE users SET code = 'A' WHERE id = 2", "!23505"},
        {kNew, "SELECT id, code FROM users ORDER BY id", "1|A;2|NULL;3|NULL;4|B"},
        {kOld, "SELECT id, name FROM users ORDER BY id", "1|ann;2|bob;3|cy;4|dee"}},
       {{kOld, "UPDATE users SET code = 'B' WHERE id = 3", "!23505"}},
       {{kOld, "SELECT * FROM users ORDER BY id",
         "1|ann|30|a;2|bob|NULL|b;3|cy|NULL|x;4|dee|NULL|x"}}},

      {"alter_column_int_to_bigint",
       "",
       R"zd({"alter_column": {"table": "users", "column": "age", "type": "bigint", "up": "age",
           "down": "age::integer"}})zd",
       "ALTER TABLE users ALTER COLUMN age TYPE bigint",
       {{kNew,
         "SELECT format_type(atttypid, atttypmod) FROM pg_attribute WHERE attrelid = "
         "'users'::regclass AND attname = 'age'",
         "bigint"},
        {kNew, "UPDATE users SET age = 41 WHERE id = 1"},
        {kOld, "SELECT age FROM users WHERE id = 1", "41"},
        {kOld, "INSERT INTO users (id, name, age) VALUES (3, 'cy', 33)"},
        {kNew, "INSERT INTO users (id, name, age) VALUES (4, 'dee', 44)"},
        {kOld, "UPDATE users SET age = 22 WHERE id = 2"},
        {kNew, "SELECT id, name, age, note FROM users ORDER BY id",
         "1|ann|41|a;2|bob|22|b;3|cy|33|x;4|dee|44|x"},
        {kOld, "SELECT id, name, age, note FROM users ORDER BY id",
         "1|ann|41|a;2|bob|22|b;3|cy|33|x;4|dee|44|x"}},
       {{kOld, "SELECT id, age FROM users ORDER BY id", "1|41;2|22;3|33;4|44"},
        {kNew, "UPDATE users SET age = 5000000000 WHERE id = 4 RETURNING age", "5000000000"}},
       {{kOld, "SELECT * FROM users ORDER BY id", "1|ann|41|a;2|bob|22|b;3|cy|33|x;4|dee|44|x"}}},

      // A user's BEFORE trigger normalizing the column fires before zerodown's, so the value
      // the old version writes reaches the new column as the user's trigger left it.
      {"alter_column_after_a_user_trigger",
       "CREATE FUNCTION lower_name() RETURNS trigger LANGUAGE plpgsql AS $f$ BEGIN NEW.name := "
       "lower(NEW.name); RETURN NEW; END $f$; CREATE TRIGGER normalize BEFORE INSERT OR UPDATE "
       "ON users FOR EACH ROW EXECUTE FUNCTION lower_name();",
       R"zd({"alter_column": {"table": "users", "column": "name", "type": "varchar(100)",
           "up": "name", "down": "name"}})zd",
       "ALTER TABLE users ALTER COLUMN name TYPE varchar(100)",
       {{kOld, "INSERT INTO users (id, name) VALUES (3, 'CY')"},
        {kOld, "UPDATE users SET name = 'ANN' WHERE id = 1"},
        {kNew, "INSERT INTO users (id, name) VALUES (4, 'Dee')"},
        {kNew, "SELECT id, name FROM users ORDER BY id", "1|ann;2|bob;3|cy;4|Dee"},
        {kOld, "SELECT id, name FROM users ORDER BY id", "1|ann;2|bob;3|cy;4|Dee"}},
       // Not a write through the same sessions: a PL/pgSQL trigger that ran before the type
       // changed fails in that session afterwards (42804), after a plain ALTER … TYPE too.
       {{kNew, "SELECT id, name FROM users ORDER BY id", "1|ann;2|bob;3|cy;4|Dee"}},
       {{kOld, "SELECT id, name FROM users ORDER BY id", "1|ann;2|bob;3|cy;4|Dee"}}},

      // A column with a default and a comment: both must survive the swap to the new column.
      {"alter_column_text_to_varchar",
       "",
       R"zd({"alter_column": {"table": "users", "column": "note", "type": "varchar(20)",
           "up": "left(note, 20)", "down": "note"}})zd",
       "ALTER TABLE users ALTER COLUMN note TYPE varchar(20)",
       {{kNew, "INSERT INTO users (id, name) VALUES (3, 'cy')"},
        {kOld, "INSERT INTO users (id, name, note) VALUES (4, 'dee', 'a note longer than twenty')"},
        {kNew, "UPDATE users SET note = 'short' WHERE id = 1"},
        {kNew, "SELECT id, note FROM users ORDER BY id", "1|short;2|b;3|x;4|a note longer than t"},
        {kOld, "SELECT id, note FROM users ORDER BY id",
         "1|short;2|b;3|x;4|a note longer than twenty"}},
       {{kOld, "SELECT id, note FROM users ORDER BY id", "1|short;2|b;3|x;4|a note longer than t"},
        {kOld, "INSERT INTO users (id, name) VALUES (5, 'eve') RETURNING note", "x"}},
       {{kOld, "SELECT * FROM users ORDER BY id",
         "1|ann|30|short;2|bob|NULL|b;3|cy|NULL|x;4|dee|NULL|a note longer than twenty"}}},

      {"alter_column_set_not_null",
       "",
       R"zd({"alter_column": {"table": "users", "column": "age", "nullable": false,
           "up": "COALESCE(age, 0)"
}
})zd",
       "UPDATE users SET age = 0 WHERE age IS NULL; ALTER TABLE users ALTER COLUMN age SET NOT "
       "NULL",
       {{kNew, "SELECT id, age FROM users ORDER BY id", "1|30;2|0"},
        {kOld, "INSERT INTO users (id, name) VALUES (3, 'cy')"},
        {kNew, "SELECT age FROM users WHERE id = 3", "0"},
        {kNew, "INSERT INTO users (id, name, age) VALUES (4, 'dee', 44)"},
        {kOld, "SELECT age FROM users WHERE id = 4", "44"},
        {kNew, "UPDATE users SET age = 5 WHERE id = 2"},
        {kOld, "SELECT id, age FROM users ORDER BY id", "1|30;2|5;3|NULL;4|44"}},
       {{kOld, "SELECT id, age FROM users ORDER BY id", "1|30;2|5;3|0;4|44"},
        {kOld, "INSERT INTO users (id, name) VALUES (5, 'eve')", "!23502"}},
       {{kOld, "SELECT * FROM users ORDER BY id", "1|ann|30|a;2|bob|5|b;3|cy|NULL|x;4|dee|44|x"}}},

      {"alter_column_drop_not_null",
       "",
       R"zd({"alter_column": {"table": "users", "column": "name", "nullable": true,
           "down": "COALESCE(name, 'anonymous')"
}
})zd",
       "ALTER TABLE users ALTER COLUMN name DROP NOT NULL",
       {{kNew, "INSERT INTO users (id, name) VALUES (3, NULL)"},
        {kOld, "SELECT name FROM users WHERE id = 3", "anonymous"},
        {kNew, "SELECT name FROM users WHERE id = 3", "NULL"},
        {kOld, "UPDATE users SET name = 'bo' WHERE id = 2"},
        {kNew, "SELECT name FROM users WHERE id = 2", "bo"},
        // A row whose old and new columns are both NULL may be the new version's NULL, so the
        // old version's NULL cannot be told apart: it gets down(NULL) instead of an error.
        {kOld, "INSERT INTO users (id, name) VALUES (4, NULL) RETURNING name", "anonymous"}},
       {{kOld, "INSERT INTO users (id) VALUES (5)"},
        {kOld, "SELECT id, name FROM users ORDER BY id", "1|ann;2|bo;3|NULL;4|NULL;5|NULL"}},
       {{kOld, "SELECT * FROM users ORDER BY id",
         "1|ann|30|a;2|bo|NULL|b;3|anonymous|NULL|x;4|anonymous|NULL|x"}}},

      {"alter_column_default_and_comment",
       "",
       R"zd({"alter_column": {"table": "users", "column": "note", "default": "'y'",
           "comment": "a note"}})zd",
       "ALTER TABLE users ALTER COLUMN note SET DEFAULT 'y'; COMMENT ON COLUMN users.note IS 'a "
       "note'",
       {{kNew, "INSERT INTO users (id, name) VALUES (3, 'cy')"},
        {kOld, "INSERT INTO users (id, name) VALUES (4, 'dee')"},
        {kOld, "SELECT id, note FROM users ORDER BY id", "1|a;2|b;3|y;4|x"},
        {kNew, "SELECT id, note FROM users ORDER BY id", "1|a;2|b;3|y;4|x"}},
       {{kOld, "INSERT INTO users (id, name) VALUES (5, 'eve') RETURNING note", "y"}},
       {{kOld, "SELECT * FROM users ORDER BY id",
         "1|ann|30|a;2|bob|NULL|b;3|cy|NULL|y;4|dee|NULL|x"}}},

      {"drop_column",
       "",
       R"zd({"drop_column": {"table": "users", "column": "age", "down": "0"}})zd",
       "ALTER TABLE users DROP COLUMN age",
       {{kNew, "SELECT * FROM users ORDER BY id", "1|ann|a;2|bob|b"},
        {kNew, "INSERT INTO users (id, name) VALUES (3, 'cy')"},
        {kOld, "SELECT age FROM users WHERE id = 3", "0"},
        {kOld, "INSERT INTO users (id, name, age) VALUES (4, 'dee', 44)"},
        {kNew, "SELECT * FROM users WHERE id = 4", "4|dee|x"},
        {kNew, "UPDATE users SET name = 'ann2' WHERE id = 1"},
        {kOld, "SELECT name, age FROM users WHERE id = 1", "ann2|30"},
        {kNew, "SELECT age FROM users", "!42703"}},
       {{kOld, "SELECT * FROM users ORDER BY id", "1|ann2|a;2|bob|b;3|cy|x;4|dee|x"}},
       {{kOld, "SELECT * FROM users ORDER BY id", "1|ann2|30|a;2|bob|NULL|b;3|cy|0|x;4|dee|44|x"}}},

      {"rename_column",
       "",
       R"zd({"rename_column": {"table": "users", "from": "name", "to": "full_name"}})zd",
       "ALTER TABLE users RENAME COLUMN name TO full_name",
       {{kNew, "INSERT INTO users (id, full_name) VALUES (3, 'cy')"},
        {kOld, "SELECT name FROM users WHERE id = 3", "cy"},
        {kOld, "UPDATE users SET name = 'bo' WHERE id = 2"},
        {kNew, "SELECT full_name FROM users WHERE id = 2", "bo"},
        {kNew, "UPDATE users SET full_name = 'ann2' WHERE id = 1"},
        {kOld, "SELECT name FROM users WHERE id = 1", "ann2"},
        {kNew, "SELECT name FROM users", "!42703"}},
       {{kOld, "SELECT id, full_name FROM users ORDER BY id", "1|ann2;2|bo;3|cy"},
        {kNew, "SELECT id, full_name FROM users ORDER BY id", "1|ann2;2|bo;3|cy"}},
       {{kOld, "SELECT * FROM users ORDER BY id", "1|ann2|30|a;2|bo|NULL|b;3|cy|NULL|x"}}},

      {"rename_table",
       "",
       R"zd({"rename_table": {"from": "users", "to": "people"}})zd",
       "ALTER TABLE users RENAME TO people",
       {{kNew, "INSERT INTO people (id, name) VALUES (3, 'cy')"},
        {kOld, "SELECT name FROM users WHERE id = 3", "cy"},
        {kOld, "UPDATE users SET age = 31 WHERE id = 1"},
        {kNew, "SELECT age FROM people WHERE id = 1", "31"},
        {kNew, "SELECT 1 FROM users", "!42P01"}},
       {{kOld, "SELECT id, name FROM people ORDER BY id", "1|ann;2|bob;3|cy"},
        {kNew, "SELECT id, name FROM people ORDER BY id", "1|ann;2|bob;3|cy"}},
       {{kOld, "SELECT * FROM users ORDER BY id", "1|ann|31|a;2|bob|NULL|b;3|cy|NULL|x"}}},

      {"create_table",
       "",
       R"zd({"create_table": {"name": "orders", "comment": "one row per order", "columns": [
           {"name": "id", "type": "serial", "pk": true},
           {"name": "user_id", "type": "integer",
            "references": {"name": "orders_user_fk", "table": "users", "column": "id"}},
           {"name": "total", "type": "numeric(10,2)", "default": "0"},
           {"name": "memo", "type": "text", "nullable": true, "unique": true}]
}
})zd",
       "CREATE TABLE orders (id serial NOT NULL, user_id integer NOT NULL CONSTRAINT "
       "orders_user_fk REFERENCES users (id), total numeric(10,2) NOT NULL DEFAULT 0, memo text "
       "UNIQUE, PRIMARY KEY (id)); COMMENT ON TABLE orders IS 'one row per order'",
       {{kNew, "INSERT INTO orders (user_id, total) VALUES (1, 9.5)"},
        {kOld, "SELECT id, user_id, total FROM orders", "1|1|9.50"},
        {kOld, "INSERT INTO orders (user_id) VALUES (2)"},
        {kNew, "SELECT id, user_id, total, memo FROM orders ORDER BY id",
         "1|1|9.50|NULL;2|2|0.00|NULL"},
        {kNew, "INSERT INTO orders (user_id) VALUES (99)", "!23503"}},
       {{kNew, "SELECT id, user_id, total FROM orders ORDER BY id", "1|1|9.50;2|2|0.00"}},
       {{kOld, "SELECT count(*) FROM pg_class WHERE relname LIKE 'orders%'", "0"},
        {kOld, "SELECT * FROM users ORDER BY id", "1|ann|30|a;2|bob|NULL|b"}}},

      {"drop_table",
       "CREATE TABLE logs (id int PRIMARY KEY, msg text); INSERT INTO logs VALUES (1, 'hi');",
       R"zd({"drop_table": {"name": "logs"}})zd",
       "DROP TABLE logs",
       {{kNew, "SELECT 1 FROM logs", "!42P01"},
        {kOld, "INSERT INTO logs VALUES (2, 'yo')"},
        {kOld, "SELECT * FROM logs ORDER BY id", "1|hi;2|yo"},
        {kNew, "INSERT INTO users (id, name) VALUES (3, 'cy')"},
        {kOld, "SELECT name FROM users WHERE id = 3", "cy"}},
       {{kNew, "SELECT 1 FROM logs", "!42P01"}},
       {{kOld, "SELECT * FROM logs ORDER BY id", "1|hi;2|yo"},
        {kOld, "SELECT * FROM users ORDER BY id", "1|ann|30|a;2|bob|NULL|b;3|cy|NULL|x"}}},

      {"create_index",
       "",
       R"zd({"create_index": {"name": "users_age_idx", "table": "users", "columns": ["age"]}})zd",
       "CREATE INDEX users_age_idx ON users (age)",
       {{kOld,
         "SELECT indisvalid FROM pg_index WHERE indexrelid = 'public.users_age_idx'::regclass",
         "t"},
        {kNew, "INSERT INTO users (id, name, age) VALUES (3, 'cy', 33)"},
        {kOld, "SELECT name FROM users WHERE age = 33", "cy"}},
       {},
       {{kOld, "SELECT count(*) FROM pg_class WHERE relname = 'users_age_idx'", "0"},
        {kOld, "SELECT * FROM users ORDER BY id", "1|ann|30|a;2|bob|NULL|b;3|cy|33|x"}}},

      {"create_unique_partial_index",
       "",
       R"zd({"create_index": {"name": "users_name_key", "table": "users", "unique": true,
           "columns": [{"column": "name", "sort": "DESC"}], "predicate": "age > 0"}})zd",
       "CREATE UNIQUE INDEX users_name_key ON users (name DESC) WHERE age > 0",
       {{kNew, "INSERT INTO users (id, name, age) VALUES (3, 'ann', 1)", "!23505"},
        {kOld, "INSERT INTO users (id, name, age) VALUES (3, 'ann', NULL)"},
        {kNew, "SELECT count(*) FROM users WHERE name = 'ann'", "2"}},
       {},
       {{kOld, "SELECT * FROM users ORDER BY id", "1|ann|30|a;2|bob|NULL|b;3|ann|NULL|x"}}},

      {"drop_index",
       "CREATE INDEX users_name_idx ON users (name);",
       R"zd({"drop_index": {"name": "users_name_idx"}})zd",
       "DROP INDEX users_name_idx",
       {{kOld, "SELECT count(*) FROM pg_class WHERE relname = 'users_name_idx'", "1"},
        {kNew, "INSERT INTO users (id, name) VALUES (3, 'cy')"},
        {kOld, "SELECT id FROM users WHERE name = 'cy'", "3"}},
       {},
       {{kOld, "SELECT count(*) FROM pg_class WHERE relname = 'users_name_idx'", "1"},
        {kOld, "SELECT * FROM users ORDER BY id", "1|ann|30|a;2|bob|NULL|b;3|cy|NULL|x"}}},

      // Raw SQL creates a table the planner cannot see; the new version must still reach it.
      {"sql_up_down",
       "",
       R"zd({"sql": {"up": "CREATE TABLE audit (id int PRIMARY KEY, what text)",
      "down" : "DROP TABLE audit"
}
})zd",
       "CREATE TABLE audit (id int PRIMARY KEY, what text)",
       {{kNew, "INSERT INTO audit VALUES (1, 'new')"},
        {kOld, "INSERT INTO audit VALUES (2, 'old')"},
        {kNew, "SELECT * FROM audit ORDER BY id", "1|new;2|old"},
        {kNew, "INSERT INTO users (id, name) VALUES (3, 'cy')"}},
       {{kNew, "SELECT * FROM audit ORDER BY id", "1|new;2|old"}},
       {{kOld, "SELECT count(*) FROM pg_class WHERE relname = 'audit'", "0"},
        {kOld, "SELECT * FROM users ORDER BY id", "1|ann|30|a;2|bob|NULL|b;3|cy|NULL|x"}}},

      {"sql_on_complete",
       "",
       R"zd({"sql": {"up": "ALTER TABLE users ADD CONSTRAINT users_age_positive CHECK (age > 0)",
      "onComplete" : true
}
})zd",
       "ALTER TABLE users ADD CONSTRAINT users_age_positive CHECK (age > 0)",
       {{kOld, "INSERT INTO users (id, name, age) VALUES (3, 'cy', 7)"},
        {kNew, "SELECT age FROM users WHERE id = 3", "7"}},
       {{kNew, "UPDATE users SET age = -1 WHERE id = 3", "!23514"}},
       {{kOld, "SELECT * FROM users ORDER BY id", "1|ann|30|a;2|bob|NULL|b;3|cy|7|x"}}},

      {"rename_constraint",
       "ALTER TABLE users ADD CONSTRAINT users_age_check CHECK (age >= 0);",
       R"zd({"rename_constraint": {"table": "users", "from": "users_age_check",
           "to": "age_not_negative"}})zd",
       "ALTER TABLE users RENAME CONSTRAINT users_age_check TO age_not_negative",
       {{kNew, "INSERT INTO users (id, name, age) VALUES (3, 'cy', -1)", "!23514"},
        {kOld, "INSERT INTO users (id, name, age) VALUES (3, 'cy', 3)"},
        {kNew, "SELECT age FROM users WHERE id = 3", "3"}},
       {{kOld, "UPDATE users SET age = -2 WHERE id = 3", "!23514"}},
       {{kOld, "SELECT * FROM users ORDER BY id", "1|ann|30|a;2|bob|NULL|b;3|cy|3|x"}}},

      // --- Several operations in one migration. ---
      {"create_table_then_add_column",
       "",
       R"zd({"create_table": {"name": "orders", "columns": [{"name": "id", "type": "int",
           "pk": true}, {"name": "total", "type": "int"}]}},
          {"add_column": {"table": "orders", "column": {"name": "status", "type": "text",
           "default": "'new'"}}})zd",
       "CREATE TABLE orders (id int PRIMARY KEY, total int NOT NULL); ALTER TABLE orders ADD "
       "COLUMN status text NOT NULL DEFAULT 'new'",
       {{kNew, "INSERT INTO orders (id, total) VALUES (1, 5)"},
        {kOld, "SELECT * FROM orders", "1|5|new"},
        {kOld, "INSERT INTO orders (id, total, status) VALUES (2, 6, 'paid')"},
        {kNew, "SELECT * FROM orders ORDER BY id", "1|5|new;2|6|paid"}},
       {{kNew, "SELECT * FROM orders ORDER BY id", "1|5|new;2|6|paid"}},
       {{kOld, "SELECT count(*) FROM pg_class WHERE relname LIKE 'orders%'", "0"}}},

      {"rename_column_then_alter_type",
       "",
       R"zd({"rename_column": {"table": "users", "from": "name", "to": "full_name"}},
          {"alter_column": {"table": "users", "column": "full_name", "type": "varchar(50)",
      "up" : "full_name", "down" : "full_name"
}
})zd",
       "ALTER TABLE users RENAME COLUMN name TO full_name; ALTER TABLE users ALTER COLUMN "
       "full_name TYPE varchar(50)",
       {{kNew, "INSERT INTO users (id, full_name) VALUES (3, 'cy')"},
        {kOld, "SELECT name FROM users WHERE id = 3", "cy"},
        {kOld, "UPDATE users SET name = 'bo' WHERE id = 2"},
        {kNew, "SELECT full_name FROM users WHERE id = 2", "bo"},
        {kNew, "UPDATE users SET full_name = 'ann2' WHERE id = 1"},
        {kOld, "SELECT id, name FROM users ORDER BY id", "1|ann2;2|bo;3|cy"}},
       {{kOld, "SELECT id, full_name FROM users ORDER BY id", "1|ann2;2|bo;3|cy"},
        {kNew, "SELECT id, full_name FROM users ORDER BY id", "1|ann2;2|bo;3|cy"}},
       {{kOld, "SELECT * FROM users ORDER BY id", "1|ann2|30|a;2|bo|NULL|b;3|cy|NULL|x"}}},

      {"alter_type_then_rename_column",
       "",
       R"zd({"alter_column": {"table": "users", "column": "name", "type": "varchar(50)",
      "up" : "name", "down" : "name"
}
},
          {"rename_column": {"table": "users", "from": "name", "to": "full_name"}})zd",
       "ALTER TABLE users ALTER COLUMN name TYPE varchar(50); ALTER TABLE users RENAME COLUMN "
       "name TO full_name",
       {{kNew, "INSERT INTO users (id, full_name) VALUES (3, 'cy')"},
        {kOld, "SELECT name FROM users WHERE id = 3", "cy"},
        {kOld, "UPDATE users SET name = 'bo' WHERE id = 2"},
        {kNew, "SELECT id, full_name FROM users ORDER BY id", "1|ann;2|bo;3|cy"}},
       {{kOld, "SELECT id, full_name FROM users ORDER BY id", "1|ann;2|bo;3|cy"}},
       {{kOld, "SELECT * FROM users ORDER BY id", "1|ann|30|a;2|bo|NULL|b;3|cy|NULL|x"}}},

      {"rename_table_then_add_column",
       "",
       R"zd({"rename_table": {"from": "users", "to": "people"}},
          {"add_column": {"table": "people", "column": {"name": "email", "type": "text",
           "default": "''"}, "up": "name || '@example.com'"}})zd",
       "ALTER TABLE users RENAME TO people; ALTER TABLE people ADD COLUMN email text NOT NULL "
       "DEFAULT ''",
       {{kNew, "SELECT id, email FROM people ORDER BY id", "1|ann@example.com;2|bob@example.com"},
        {kOld, "INSERT INTO users (id, name) VALUES (3, 'cy')"},
        {kNew, "SELECT email FROM people WHERE id = 3", "cy@example.com"},
        {kNew, "INSERT INTO people (id, name, email) VALUES (4, 'dee', 'd@x')"},
        {kOld, "SELECT id, name FROM users ORDER BY id", "1|ann;2|bob;3|cy;4|dee"}},
       {{kOld, "SELECT id, email FROM people ORDER BY id",
         "1|ann@example.com;2|bob@example.com;3|cy@example.com;4|d@x"}},
       {{kOld, "SELECT * FROM users ORDER BY id",
         "1|ann|30|a;2|bob|NULL|b;3|cy|NULL|x;4|dee|NULL|x"}}},
  };
  return cases;
}

class ExpandContractOperationsTest : public ::testing::TestWithParam<Case> {};

TEST_P(ExpandContractOperationsTest, BothVersionsWorkThenCompleteLeavesThePlainAlterCatalog) {
  const Case& c = GetParam();
  testing::CaseRun run(testing::CaseDatabase(c, kBaseSetup, "_c"));
  run.Start(c);
  run.Complete(c.after_complete);

  std::string plain_db = Database(c.name + "_p");
  pg::Connection plain = testing::Connect(plain_db);
  plain.Run(std::string(kBaseSetup) + c.setup);
  plain.Run(c.plain);
  EXPECT_EQ(Catalog(run.conn()), Catalog(plain))
      << "complete leaves the catalog a plain ALTER would";
  EXPECT_EQ(Leftovers(run.conn(), run.version()), "")
      << "nothing of the migration is left but its views";
  EXPECT_TRUE(pg::SchemaExists(run.conn(), run.version())) << "the new version stays usable";
}

TEST_P(ExpandContractOperationsTest, BothVersionsWorkThenRollbackRestoresCatalogAndKeepsWrites) {
  const Case& c = GetParam();
  std::string db = testing::CaseDatabase(c, kBaseSetup, "_r");
  testing::CaseRun run(db);
  std::string before = Catalog(run.conn());
  run.Start(c);
  run.Rollback(c.after_rollback);
  EXPECT_EQ(Catalog(run.conn()), before) << "rollback leaves the catalog as before start";
  EXPECT_EQ(Leftovers(run.conn(), "public"), "");
}

// The application's own role, which owns nothing, reaches the new version as it reached the
// tables: USAGE on the version schema, its table's privileges on each view (a column's under the
// column's new name) and no more, and a table's row-level security applied to that role, not to
// the views' owner.
TEST(ExpandContractRolesTest, AnApplicationRoleUsesTheNewVersionAsItUsedTheTables) {
  std::string db = Database("roles_app");
  pg::Connection conn = testing::Connect(db);
  conn.Run(std::string(kBaseSetup) +
           "DO $$ BEGIN IF NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 'app') THEN CREATE "
           "ROLE app LOGIN; END IF; END $$;"
           "GRANT SELECT, INSERT, UPDATE ON users TO app;"
           "CREATE TABLE notes (id int PRIMARY KEY, author text NOT NULL, body text);"
           "ALTER TABLE notes ENABLE ROW LEVEL SECURITY;"
           "CREATE POLICY own ON notes USING (author = current_user);"
           "INSERT INTO notes VALUES (1, 'app', 'mine'), (2, 'someone', 'theirs');"
           "GRANT SELECT ON notes TO app;"
           "CREATE TABLE audit (id int PRIMARY KEY, what text);"
           "INSERT INTO audit VALUES (7, 'secret');"
           "GRANT SELECT (id) ON audit TO app;");
  State(conn).Init();
  SilentProgress progress;
  Engine engine(conn, testing::FastEngineOptions(), progress);
  auto record = engine.Start(testing::ParseOperations(
      "app_role",
      R"({"rename_column": {"table": "users", "from": "name", "to": "full_name"}},
         {"add_column": {"table": "users", "column": {"name": "email", "type": "text",
                                                    "nullable": true}}})"));
  ASSERT_EQ(record.phase, zerodown::engine::MigrationPhase::kActive);
  pg::Connection app = testing::Connect(db + " user=app");
  app.Exec("SELECT set_config('search_path', $1, false)", {record.plan.version_schema});
  EXPECT_EQ(RowsText(app.Exec("SELECT full_name FROM users ORDER BY id")), "ann;bob");
  app.Exec("INSERT INTO users (id, full_name, email) VALUES (3, 'cy', 'c@x')");
  app.Exec("UPDATE users SET email = 'a@x' WHERE id = 1");
  EXPECT_EQ(RowsText(app.Exec("SELECT body FROM notes ORDER BY id")), "mine")
      << "the table's policy applies to the application's role through the view";
  EXPECT_EQ(RowsText(app.Exec("SELECT id FROM audit")), "7");
  EXPECT_FALSE(app.TryExec("SELECT what FROM audit").ok()) << "a column not granted stays so";
  EXPECT_FALSE(app.TryExec("DELETE FROM users WHERE id = 3").ok()) << "DELETE was not granted";

  engine.Complete();
  EXPECT_EQ(RowsText(app.Exec("SELECT full_name, email FROM users ORDER BY id")),
            "ann|a@x;bob|NULL;cy|c@x");
}

INSTANTIATE_TEST_SUITE_P(Ops, ExpandContractOperationsTest, ::testing::ValuesIn(Cases()),
                         [](const ::testing::TestParamInfo<Case>& info) {
                           return info.param.name;
                         });

}  // namespace
}  // namespace zerodown::engine
