// A column that a check or a foreign key reads can still be changed online: the copy must satisfy
// the check and the foreign key from start (for the new version's writes and for what `up` makes
// of the old version's), rollback leaves the schema exactly as it was, and complete leaves both
// constraints under their own names, over the new column, validated.
#include <gtest/gtest.h>

#include <fstream>

#include "support/database.hpp"
#include "support/two_versions.hpp"

namespace zerodown::testing {
namespace {

constexpr const char* kSetup =
    "CREATE TABLE parents (id int PRIMARY KEY);"
    "INSERT INTO parents SELECT generate_series(1, 3);"
    "CREATE TABLE children (id int PRIMARY KEY, parent_id int CONSTRAINT children_parent_fk "
    "REFERENCES parents ON DELETE CASCADE, qty int CONSTRAINT children_qty_positive CHECK (qty > "
    "0 AND qty < id * 1000), note text);"
    "INSERT INTO children SELECT g, CASE WHEN g % 4 = 0 THEN NULL ELSE g % 3 + 1 END, g FROM "
    "generate_series(1, 200) g;";

constexpr const char* kMigration = R"y(operations:
  - alter_column:
      table: children
      column: parent_id
      nullable: false
      up: COALESCE(parent_id, 1)
      down: parent_id
  - alter_column:
      table: children
      column: qty
      type: bigint
      up: CAST(qty AS bigint)
      down: CAST(qty AS integer)
)y";

// contype|validated|the column it reads|that column's type, for constraint `name`.
std::string ConstraintState(pg::Connection& conn, const std::string& name) {
  return RowsText(
      conn.Exec("SELECT k.contype, k.convalidated, a.attname, format_type(a.atttypid, a.atttypmod) "
                "FROM pg_constraint k JOIN pg_attribute a ON a.attrelid = k.conrelid "
                "AND a.attnum = k.conkey[1] WHERE k.conname = $1",
                {name}));
}

TEST(ConstraintsCarriedToCopyTest, ChecksAndForeignKeysHoldFromStartAndStayAfterComplete) {
  std::string db = FreshDatabase();
  pg::Connection conn = Connect(db);
  conn.Run(kSetup);
  std::string file = ::testing::TempDir() + "/children_changes.yaml";
  std::ofstream(file) << kMigration;
  std::string base = "--postgres-url " + Quoted(db) + " ";
  std::string out;
  ASSERT_EQ(RunZerodown(base + "init", &out), 0) << out;
  std::string before = SchemaDump(db);

  ASSERT_EQ(RunZerodown(base + "start " + file, &out), 0) << out;
  Versions versions(db, "public_children_changes");
  versions.Run({{kNew, "INSERT INTO children VALUES (1001, 9, 5)", "!23503"},
                {kNew, "INSERT INTO children VALUES (1002, 1, 0)", "!23514 children_qty_positive"},
                {kOld, "INSERT INTO children VALUES (1003, 1, -1)", "!23514"},
                {kOld, "INSERT INTO children VALUES (1004, NULL, 7)", "*"},
                {kNew, "SELECT parent_id FROM children WHERE id = 1004", "1"},
                {kNew, "INSERT INTO children VALUES (1005, 2, 3000000000)", "!22003"},  // down
                {kNew, "INSERT INTO children VALUES (1006, 2, 6)", "*"}},
               "after start");
  ASSERT_EQ(RunZerodown(base + "rollback", &out), 0) << out;
  EXPECT_EQ(SchemaDump(db), before) << "rollback leaves the schema exactly as it was";

  ASSERT_EQ(RunZerodown(base + "start " + file, &out), 0) << out;
  ASSERT_EQ(RunZerodown(base + "complete", &out), 0) << out;
  EXPECT_EQ(ConstraintState(conn, "children_parent_fk"), "f|t|parent_id|integer");
  EXPECT_EQ(ConstraintState(conn, "children_qty_positive"), "c|t|qty|bigint");
  EXPECT_EQ(RowsText(conn.Exec("SELECT count(*) FROM children WHERE parent_id IS NULL")), "0");
  auto deleted = conn.TryExec("DELETE FROM parents WHERE id = 1");
  ASSERT_TRUE(deleted.ok()) << deleted.error().Describe();
  EXPECT_EQ(RowsText(conn.Exec("SELECT count(*) FROM children WHERE parent_id = 1")), "0")
      << "ON DELETE CASCADE was carried over";
}

}  // namespace
}  // namespace zerodown::testing
