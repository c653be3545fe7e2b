// Live control of a running migration from another process, on a real server
// through the zerodown binary: `zerodown postpone-cutover` holds a `complete` back until
// `zerodown cutover` (and `status` says so), also inside `start --complete`, and `zerodown set
// chunk-time=` during a backfill resizes its next batches.
#include <gtest/gtest.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>
#include <thread>
#include <vector>

#include "support/database.hpp"

namespace zerodown {
namespace {

using namespace std::chrono_literals;
using Clock = std::chrono::steady_clock;
using testing::RunZerodown;

// A zerodown command running in the background; its output and exit code once it ends.
class Background {
 public:
  explicit Background(std::string args)
      : thread_([this, args = std::move(args)] {
          code_ = RunZerodown(args, &output_);
          ended_at_ = Clock::now();
          done_ = true;
        }) {}
  ~Background() {
    if (thread_.joinable()) thread_.join();
  }
  bool done() const { return done_; }
  // Waits up to `limit` for the command to end; true if it did.
  bool WaitFor(std::chrono::milliseconds limit) {
    auto until = Clock::now() + limit;
    while (!done_ && Clock::now() < until) std::this_thread::sleep_for(20ms);
    return done_;
  }
  int Join() {
    thread_.join();
    return code_;
  }
  const std::string& output() const { return output_; }  // after Join
  Clock::time_point ended_at() const { return ended_at_; }

 private:
  std::string output_;
  int code_ = -1;
  Clock::time_point ended_at_{};
  std::atomic<bool> done_{false};
  std::thread thread_;
};

// A table of `rows` rows and a migration file that widens its `v` to bigint (with a backfill).
std::string Prepare(int rows, std::string* file) {
  std::string db = testing::FreshDatabase();
  pg::Connection conn = testing::Connect(db);
  conn.Run(
      "CREATE TABLE items (id int PRIMARY KEY, v int NOT NULL);"
      "INSERT INTO items SELECT g, g FROM generate_series(1, " +
      std::to_string(rows) + ") g; ANALYZE items;");
  *file = ::testing::TempDir() + "/" +
          ::testing::UnitTest::GetInstance()->current_test_info()->name() + ".yaml";
  std::ofstream(*file) << "operations:\n  - alter_column: {table: items, column: v, type: bigint, "
                          "up: v, down: v::integer}\n";
  std::string out;
  EXPECT_EQ(RunZerodown("--postgres-url " + testing::Quoted(db) + " init", &out), 0) << out;
  return db;
}

std::string ColumnType(pg::Connection& conn) {
  return conn
      .Exec(
          "SELECT format_type(atttypid, atttypmod) FROM pg_attribute "
          "WHERE attrelid = 'public.items'::regclass AND attname = 'v'")
      .Text(0, 0);
}

std::size_t Count(const std::string& text, const std::string& what) {
  std::size_t n = 0;
  for (auto at = text.find(what); at != std::string::npos; at = text.find(what, at + 1)) ++n;
  return n;
}

TEST(MonitorControl, CompleteWaitsWhileTheCutoverIsPostponed) {
  std::string file;
  std::string db = Prepare(1000, &file);
  std::string base = "--postgres-url " + testing::Quoted(db) + " ";
  std::string out;
  ASSERT_EQ(RunZerodown(base + "start " + file, &out), 0) << out;

  ASSERT_EQ(RunZerodown(base + "postpone-cutover", &out), 0) << out;
  EXPECT_NE(out.find("postponed the cut-over of schema \"public\""), std::string::npos) << out;
  ASSERT_EQ(RunZerodown(base + "status", &out), 0) << out;
  EXPECT_NE(out.find("cut-over: postponed"), std::string::npos) << out;
  ASSERT_EQ(RunZerodown(base + "--json status", &out), 0) << out;
  EXPECT_EQ(nlohmann::json::parse(out)["control"]["cutover"], "postponed") << out;
  // Per schema, like the rest of the control state.
  ASSERT_EQ(RunZerodown(base + "--schema other --json status", &out), 0) << out;
  EXPECT_EQ(nlohmann::json::parse(out)["control"]["cutover"], "allowed") << out;

  // The flag was set by another process before this one started: it lives in the database.
  Background complete(base + "complete");
  EXPECT_FALSE(complete.WaitFor(2500ms)) << "complete finished while the cut-over was postponed:\n"
                                         << complete.output();
  pg::Connection conn = testing::Connect(db);
  EXPECT_EQ(ColumnType(conn), "integer") << "complete changed the table while postponed";

  ASSERT_EQ(RunZerodown(base + "cutover", &out), 0) << out;
  EXPECT_NE(out.find("released the cut-over of schema \"public\""), std::string::npos) << out;
  auto released = Clock::now();
  EXPECT_TRUE(complete.WaitFor(10s));
  EXPECT_LT(complete.ended_at() - released, 2s) << "complete went on too late after cutover";
  ASSERT_EQ(complete.Join(), 0) << complete.output();
  EXPECT_EQ(Count(complete.output(),
                  "cut-over postponed by `zerodown postpone-cutover`; run "
                  "`zerodown cutover` to let it proceed"),
            1u)
      << complete.output();
  EXPECT_NE(complete.output().find("released by `zerodown cutover`"), std::string::npos)
      << complete.output();
  EXPECT_EQ(ColumnType(conn), "bigint");

  ASSERT_EQ(RunZerodown(base + "--json status", &out), 0) << out;
  EXPECT_EQ(nlohmann::json::parse(out)["control"]["cutover"], "allowed") << out;
  ASSERT_EQ(RunZerodown(base + "cutover", &out), 0) << out;
  EXPECT_NE(out.find("was not postponed"), std::string::npos) << out;
}

TEST(MonitorControl, StartCompleteRunsUpToTheCutoverAndWaits) {
  std::string file;
  std::string db = Prepare(1000, &file);
  std::string base = "--postgres-url " + testing::Quoted(db) + " ";
  std::string out;
  ASSERT_EQ(RunZerodown(base + "postpone-cutover", &out), 0) << out;
  Background start(base + "start --complete " + file);
  EXPECT_FALSE(start.WaitFor(3000ms)) << start.output();
  pg::Connection conn = testing::Connect(db);
  // Expanded (the migration is active), not contracted.
  EXPECT_EQ(conn.Exec("SELECT phase FROM zerodown.migrations").Text(0, 0), "active");
  EXPECT_EQ(ColumnType(conn), "integer");
  ASSERT_EQ(RunZerodown(base + "cutover", &out), 0) << out;
  EXPECT_TRUE(start.WaitFor(10s));
  ASSERT_EQ(start.Join(), 0) << start.output();
  EXPECT_EQ(ColumnType(conn), "bigint");
}

struct Batch {
  int size;
  double ms;
};

TEST(MonitorControl, SetChunkTimeResizesTheRunningBackfill) {
  std::string file;
  // Under the 100000 rows from which `auto` picks a shadow copy: the in-place backfill, whose
  // UPDATE batches are slow enough to catch mid-way.
  std::string db = Prepare(90000, &file);
  std::string base = "--postgres-url " + testing::Quoted(db) + " ";
  std::string pause = ::testing::TempDir() + "/zerodown_control_pause_" + std::to_string(getpid());
  std::filesystem::remove(pause);
  pg::Connection conn = testing::Connect(db);
  Background start(base + "--json start --chunk-time 5 --max-probe-latency-ratio 0 --pause-file " +
                   pause + " " + file);
  auto rows_done = [&conn] {
    return conn.Exec("SELECT coalesce(max(rows_done), 0) FROM zerodown.steps").Int(0, 0);
  };
  auto deadline = Clock::now() + 60s;
  while (rows_done() < 3000 && !start.done() && Clock::now() < deadline) {
    std::this_thread::sleep_for(10ms);
  }
  // The pause file holds the very next batch back (it is checked before every one), which splits
  // the batches cleanly into before and after the change.
  std::ofstream(pause) << "";
  ASSERT_FALSE(start.done()) << "the backfill ended before the test could change it:\n"
                             << start.output();
  std::string out;
  ASSERT_EQ(RunZerodown(base + "set chunk-time=500ms", &out), 0) << out;
  std::this_thread::sleep_for(1500ms);  // the throttler reads the control rows once a second
  std::filesystem::remove(pause);
  ASSERT_EQ(start.Join(), 0) << start.output();

  std::vector<Batch> before;
  std::vector<Batch> after;
  int stage = 0;  // 0 before the pause, 1 paused, 2 after it
  std::istringstream lines(start.output());
  for (std::string line; std::getline(lines, line);) {
    auto event = nlohmann::json::parse(line, nullptr, false);
    if (!event.is_object() || !event.contains("event")) continue;
    if (event["event"] == "message") {
      std::string message = event["message"];
      if (stage == 0 && message.find("pause file") != std::string::npos) stage = 1;
      if (stage == 1 && message.rfind("resumed after", 0) == 0) stage = 2;
    } else if (event["event"] == "backfill") {
      Batch b{event["batch_size"].get<int>(), event["chunk_ms"].get<double>()};
      if (stage == 0) before.push_back(b);
      if (stage == 2) after.push_back(b);
    }
  }
  ASSERT_GE(before.size(), 3u) << start.output();
  ASSERT_GE(after.size(), 2u) << start.output();
  auto biggest = [](const std::vector<Batch>& batches) {
    return std::max_element(batches.begin(), batches.end(),
                            [](const Batch& a, const Batch& b) { return a.size < b.size; })
        ->size;
  };
  int max_before = biggest(before);
  int max_after = biggest(after);
  // 100x the target: batches grow to the 20000-row cap at once, where 5 ms kept them small.
  EXPECT_GE(max_after, std::min(20000, 8 * max_before))
      << "before: " << max_before << ", after: " << max_after;
  EXPECT_GT(max_after, 2 * max_before) << "before: " << max_before << ", after: " << max_after;
}

}  // namespace
}  // namespace zerodown
