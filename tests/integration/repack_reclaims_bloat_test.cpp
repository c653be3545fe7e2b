// `zerodown repack TABLE` on a real server: a table bloated by deleted rows is rebuilt while
// clients write to it; no client transaction fails, no row is lost, the table takes less space
// afterwards, its indexes are all there, and the version schema applications use is unchanged.
// A `rebuild_table` in a migration file plans the same copy.
#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <thread>

#include "support/database.hpp"
#include "support/migrations.hpp"
#include "zerodown/engine/engine.hpp"
#include "zerodown/engine/state.hpp"

namespace zerodown::engine {
namespace {

constexpr int kRows = 80000;

TEST(RepackReclaimsBloatTest, UnderWritesNoFailureNoLostRowAndLessSpace) {
  std::string db = testing::FreshDatabase();
  pg::Connection conn = testing::Connect(db);
  conn.Run(fmt::format(
      "CREATE TABLE items (id int PRIMARY KEY, counter int NOT NULL DEFAULT 0, body text);"
      "CREATE INDEX items_counter ON items (counter);"
      "INSERT INTO items SELECT g, 0, repeat('x', 200) FROM generate_series(1, {}) g;"
      "DELETE FROM items WHERE id % 4 <> 0;",
      kRows));
  conn.Run("VACUUM ANALYZE items");
  State(conn).Init();
  std::int64_t size_before = conn.Exec("SELECT pg_total_relation_size('items')").Int(0, 0);
  std::int64_t rows_before = conn.Exec("SELECT count(*) FROM items").Int(0, 0);
  std::string out;
  ASSERT_EQ(testing::RunZerodown("--postgres-url " + testing::Quoted(db) + " latest", &out), 0)
      << out;
  std::string latest_before = out;

  std::atomic<bool> stop{false};
  std::atomic<int> done{0};
  std::atomic<int> failed{0};
  std::string last_error;
  std::vector<std::thread> writers;
  for (int i = 0; i < 4; ++i) {
    writers.emplace_back([&, i] {
      pg::Connection c = testing::Connect(db);
      for (std::uint64_t n = 0; !stop; ++n) {
        std::string id = std::to_string(4 * (1 + (i * 7919 + n * 104729) % (kRows / 4)));
        try {
          c.Exec("UPDATE items SET counter = counter + 1 WHERE id = $1", {id});
          ++done;
          // An application's pace, not a tight loop: every write is replayed into the new heap
          // as a dead row and a new one, so a fast machine's tight loop would re-bloat it.
          std::this_thread::sleep_for(std::chrono::milliseconds(1));
        } catch (const Error& e) {
          ++failed;
          last_error = e.Describe();
        }
      }
    });
  }
  int rc = testing::RunZerodown(
      "--postgres-url " + testing::Quoted(db) + " --lock-timeout 200 repack items", &out);
  stop = true;
  for (auto& t : writers) t.join();
  ASSERT_EQ(rc, 0) << out;
  EXPECT_EQ(failed, 0) << last_error;
  EXPECT_GT(done, 50);

  EXPECT_EQ(conn.Exec("SELECT count(*) FROM items").Int(0, 0), rows_before);
  EXPECT_EQ(conn.Exec("SELECT sum(counter) FROM items").Int(0, 0), done.load())
      << "every committed increment is in the rebuilt table";
  std::int64_t size_after = conn.Exec("SELECT pg_total_relation_size('items')").Int(0, 0);
  EXPECT_LT(size_after, size_before * 6 / 10)
      << "before " << size_before << " after " << size_after;
  EXPECT_EQ(conn.Exec("SELECT string_agg(indexname, ',' ORDER BY indexname) FROM pg_indexes "
                      "WHERE tablename = 'items'")
                .Text(0, 0),
            "items_counter,items_pkey");
  ASSERT_EQ(testing::RunZerodown("--postgres-url " + testing::Quoted(db) + " latest", &out), 0)
      << out;
  EXPECT_EQ(out, latest_before) << "applications keep their search_path";
  EXPECT_EQ(testing::RunZerodown("--postgres-url " + testing::Quoted(db) + " repack nope", &out), 2)
      << out;
  EXPECT_NE(out.find("table \"nope\" does not exist"), std::string::npos) << out;
}

// A fresh database with zerodown's state and a 100-row table `items` (id, body).
std::string ItemsDatabase() {
  std::string db = testing::FreshDatabase();
  pg::Connection conn = testing::Connect(db);
  conn.Run(
      "CREATE TABLE items (id int PRIMARY KEY, body text); INSERT INTO items SELECT g, 'b' "
      "FROM generate_series(1, 100) g;");
  State(conn).Init();
  return db;
}

TEST(RepackReclaimsBloatTest, RebuildTableInAFileIsPlannedAsACopy) {
  pg::Connection conn = testing::Connect(ItemsDatabase());
  SilentProgress progress;
  Engine engine(conn, testing::FastEngineOptions(), progress);
  Plan plan = engine.PlanOnly(
      testing::ParseOperations("rebuild", R"({"rebuild_table": {"table": "items"}})"));
  ASSERT_EQ(plan.start.size(), 1u);
  EXPECT_EQ(plan.start[0].kind, ActionKind::kShadowCopy);
  EXPECT_EQ(plan.version_schema, "public") << "no version schema of its own";
  auto bad = testing::ParseOperations("rebuild", R"({"rebuild_table": {"table": "nope"}})");
  EXPECT_THROW(engine.PlanOnly(bad), Error);
}

// An old heap an earlier run could not drop keeps the name this run's swap needs, and a rollback
// would take it for this run's: refused before anything changes, with the DROP that removes it.
TEST(RepackReclaimsBloatTest, ACopyLeftOverByAnEarlierRunIsRefusedNotTakenForThisOne) {
  pg::Connection conn = testing::Connect(ItemsDatabase());
  SilentProgress progress;
  Engine engine(conn, testing::FastEngineOptions(), progress);
  for (const auto* operations :
       {R"({"rebuild_table": {"table": "items"}})",
        R"({"alter_column": {"table": "items", "column": "id", "type": "bigint"}})"}) {
    conn.Run("CREATE TABLE IF NOT EXISTS _zd_retired_items (id int, body text);");
    try {
      engine.Start(testing::ParseOperations("m", operations));
      ADD_FAILURE() << operations << " started";
    } catch (const Error& error) {
      EXPECT_EQ(error.kind(), ErrorKind::kInvalidMigration) << error.message();
      EXPECT_NE(error.message().find("_zd_retired_items\" of schema \"public\" is left over"),
                std::string::npos)
          << error.message();
      EXPECT_NE(error.fix().find("DROP TABLE \"public\".\"_zd_retired_items\""), std::string::npos)
          << error.fix();
    }
  }
  EXPECT_FALSE(State(conn).Active("public").has_value());
  conn.Run("DROP TABLE _zd_retired_items;");
  engine.Start(testing::ParseOperations("m", R"({"rebuild_table": {"table": "items"}})"));
  EXPECT_EQ(conn.Exec("SELECT count(*) FROM items").Text(0, 0), "100");
}

}  // namespace
}  // namespace zerodown::engine
