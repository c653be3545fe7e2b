// The planner's choice of how a type change moves its rows: `zerodown plan` on a real
// server picks a shadow copy from 100,000 rows and in place below, and prints the estimate the
// choice rests on: rows, sizes, and each way's duration and write volume.
#include <gtest/gtest.h>

#include <fstream>
#include <regex>

#include "support/database.hpp"
#include "zerodown/engine/state.hpp"

namespace zerodown::engine {
namespace {

// The number of megabytes printed just before `after` in `text` ("≈ 12 MB written …"), or -1.
int MegabytesBefore(const std::string& text, const std::string& after) {
  std::smatch m;
  if (!std::regex_search(text, m, std::regex("≈ ([0-9]+) MB " + after))) return -1;
  return std::stoi(m[1]);
}

TEST(MechanismChoiceTest, PlanPicksByRowsAndPrintsWhatEachWayTakesAndWrites) {
  std::string db = testing::FreshDatabase();
  pg::Connection conn = testing::Connect(db);
  conn.Run(
      "CREATE TABLE big (id int PRIMARY KEY, n int NOT NULL, note text);"
      "INSERT INTO big SELECT g, g, repeat('x', 40) FROM generate_series(1, 150000) g;"
      "CREATE TABLE small (id int PRIMARY KEY, n int NOT NULL);"
      "INSERT INTO small SELECT g, g FROM generate_series(1, 1000) g;");
  conn.Run("ANALYZE big");
  conn.Run("ANALYZE small");
  State(conn).Init();
  std::string base = "--postgres-url " + testing::Quoted(db) + " plan ";
  std::string out;

  std::string big = ::testing::TempDir() + "/big_bigint.sql";
  std::ofstream(big) << "ALTER TABLE big ALTER COLUMN n TYPE bigint;\n";
  ASSERT_EQ(testing::RunZerodown(base + big, &out), 0) << out;
  EXPECT_NE(out.find("[shadow copy (auto, shadow from 100000 rows): ~150000 rows"),
            std::string::npos)
      << out;
  // Both ways' write volumes follow the table's size: 3.5 and 2.3 times its heap and indexes,
  // and the in-place way leaves one table's worth of dead rows behind.
  double mb = conn.Exec("SELECT (pg_relation_size('big') + pg_indexes_size('big')) / 1048576.0")
                  .Double(0, 0);
  ASSERT_GT(mb, 5) << "a table big enough for the sizes to mean something";
  EXPECT_NEAR(MegabytesBefore(out, "written with its WAL, rewriting"), 3.5 * mb, 1) << out;
  EXPECT_NEAR(MegabytesBefore(out, "of dead rows"), mb, 1) << out;
  EXPECT_NEAR(MegabytesBefore(out, "written with its WAL into a new heap"), 2.3 * mb, 1) << out;
  EXPECT_NEAR(MegabytesBefore(out, "more disk until the swap"), mb, 1) << out;
  EXPECT_NE(out.find("copy big into a new heap"), std::string::npos) << out;

  ASSERT_EQ(testing::RunZerodown(base + "--mechanism inplace " + big, &out), 0) << out;
  EXPECT_NE(out.find("[in place (--mechanism=inplace)]"), std::string::npos) << out;
  EXPECT_EQ(out.find("into a new heap"), std::string::npos) << out;

  std::string small = ::testing::TempDir() + "/small_bigint.sql";
  std::ofstream(small) << "ALTER TABLE small ALTER COLUMN n TYPE bigint;\n";
  ASSERT_EQ(testing::RunZerodown(base + small, &out), 0) << out;
  EXPECT_NE(out.find("[in place (auto, shadow from 100000 rows): ~1000 rows"), std::string::npos)
      << out;
  EXPECT_EQ(conn.Exec("SELECT count(*) FROM zerodown.migrations").Int(0, 0), 0)
      << "plan changes nothing";
}

}  // namespace
}  // namespace zerodown::engine
