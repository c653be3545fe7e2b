// Crash safety of the zerodown binary: killed with SIGKILL in the middle of a backfill, the same
// `start` run again finishes the migration with every row filled; and a second zerodown refuses
// (with --no-wait) while another holds the schema's advisory lock, changing nothing.
#include <fcntl.h>
#include <gtest/gtest.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <thread>

#include "support/database.hpp"
#include "zerodown/engine/state.hpp"
#include "zerodown/pg/advisory_lock.hpp"
#include "zerodown/pg/catalog.hpp"

namespace zerodown {
namespace {

// up is not the identity, so a row the backfill skipped (NULL) or filled twice from a wrong
// value cannot pass for a filled one.
constexpr const char* kMigration = R"({
  "name": "v_bigint",
  "operations": [{"alter_column": {"table": "items", "column": "v", "type": "bigint",
                                   "up": "v::bigint * 3 + 1", "down": "((v - 1) / 3)::integer"}}]
})";

constexpr int kRows = 300000;

std::string MigrationFile() {
  auto path = std::filesystem::temp_directory_path() /
              ("zd_resume_" + std::to_string(getpid()) + "_v_bigint.json");
  std::ofstream(path) << kMigration;
  return path.string();
}

std::string SetUpItems() {
  std::string db = testing::FreshDatabase();
  pg::Connection conn = testing::Connect(db);
  conn.Run(
      "CREATE TABLE items (id int PRIMARY KEY, v int NOT NULL);"
      "INSERT INTO items SELECT g, g % 10007 FROM generate_series(1, " +
      std::to_string(kRows) + ") g; ANALYZE items;");
  engine::State(conn).Init();
  return db;
}

// Starts the zerodown binary with `args` without a shell, output to /dev/null; returns its pid.
pid_t Spawn(const std::vector<std::string>& args) {
  pid_t pid = fork();
  if (pid == 0) {
    int null = open("/dev/null", O_WRONLY);
    dup2(null, 1);
    dup2(null, 2);
    std::vector<char*> argv;
    std::string binary = ZERODOWN_BINARY;
    argv.push_back(binary.data());
    std::vector<std::string> copy = args;
    for (auto& a : copy) argv.push_back(a.data());
    argv.push_back(nullptr);
    execv(binary.c_str(), argv.data());
    _exit(127);
  }
  return pid;
}

// SIGKILLs `pid` as soon as its pass has saved progress in zerodown.steps.
void KillOnceProgressIsSaved(pid_t pid, pg::Connection& conn) {
  std::int64_t rows_done = 0;
  auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(30);
  while (std::chrono::steady_clock::now() < deadline) {
    rows_done = conn.Exec(
                        "SELECT coalesce(max(rows_done), 0) FROM zerodown.steps WHERE migration "
                        "= 'v_bigint'")
                    .Int(0, 0);
    if (rows_done > 0) break;
    int status = 0;
    ASSERT_EQ(waitpid(pid, &status, WNOHANG), 0) << "zerodown ended before its pass began";
    std::this_thread::sleep_for(std::chrono::milliseconds(2));
  }
  ASSERT_GT(rows_done, 0) << "the pass never reported progress";
  ASSERT_EQ(kill(pid, SIGKILL), 0);
  int status = 0;
  ASSERT_EQ(waitpid(pid, &status, 0), pid);
  ASSERT_TRUE(WIFSIGNALED(status));
}

TEST(ResumeAfterKillTest, StartKilledDuringBackfillThenRerunFillsEveryRow) {
  std::string db = SetUpItems();
  std::string file = MigrationFile();
  pg::Connection conn = testing::Connect(db);

  pid_t pid =
      Spawn({"--postgres-url", db, "start", "--chunk-time", "5", "--mechanism", "inplace", file});
  ASSERT_GT(pid, 0);
  // Kill once the backfill has committed progress but is far from done.
  KillOnceProgressIsSaved(pid, conn);
  if (HasFatalFailure()) return;

  std::int64_t unfilled = conn.Exec("SELECT count(*) FROM items WHERE _zd_new_v IS NULL").Int(0, 0);
  ASSERT_GT(unfilled, 0) << "killed too late: the test would prove nothing";
  EXPECT_EQ(conn.Exec("SELECT phase FROM zerodown.migrations WHERE name = 'v_bigint'").Text(0, 0),
            "starting");
  // Writes while no zerodown runs go through the trigger, like any other write.
  conn.Exec("UPDATE items SET v = 5 WHERE id = $1", {std::to_string(kRows)});

  std::string out;
  ASSERT_EQ(
      testing::RunZerodown(
          "--postgres-url '" + db + "' start --chunk-time 20 --mechanism inplace " + file, &out),
      0)
      << out;
  EXPECT_NE(out.find("resuming"), std::string::npos) << "the rerun resumes, not restarts: " << out;
  EXPECT_EQ(conn.Exec("SELECT phase FROM zerodown.migrations WHERE name = 'v_bigint'").Text(0, 0),
            "active");
  pg::Rows wrong = conn.Exec(
      "SELECT count(*), min(id) FROM items WHERE _zd_new_v IS DISTINCT FROM v::bigint * 3 + 1");
  EXPECT_EQ(wrong.Int(0, 0), 0) << "first row missed or wrong: id " << wrong.Text(0, 1);
  EXPECT_EQ(conn.Exec("SELECT count(*) FROM items").Int(0, 0), kRows);
  std::filesystem::remove(file);
}

TEST(ResumeAfterKillTest, StartKilledDuringShadowCopyThenRerunCopiesEveryRowOnce) {
  std::string db = SetUpItems();
  std::string file = MigrationFile();
  pg::Connection conn = testing::Connect(db);

  pid_t pid =
      Spawn({"--postgres-url", db, "start", "--chunk-time", "5", "--mechanism", "shadow", file});
  ASSERT_GT(pid, 0);
  KillOnceProgressIsSaved(pid, conn);
  if (HasFatalFailure()) return;

  std::int64_t copied = conn.Exec("SELECT count(*) FROM _zd_shadow_items").Int(0, 0);
  ASSERT_LT(copied, kRows) << "killed too late: the test would prove nothing";
  // Written while no zerodown runs: the change log keeps it for the rerun.
  conn.Exec("UPDATE items SET v = 5 WHERE id = $1", {std::to_string(kRows)});
  conn.Exec("DELETE FROM items WHERE id = 1");

  std::string out;
  ASSERT_EQ(
      testing::RunZerodown(
          "--postgres-url '" + db + "' start --chunk-time 20 --mechanism shadow " + file, &out),
      0)
      << out;
  EXPECT_NE(out.find("resuming"), std::string::npos) << out;
  pg::Rows wrong = conn.Exec(
      "SELECT count(*), min(id) FROM items WHERE _zd_new_v IS DISTINCT FROM v::bigint * 3 + 1");
  EXPECT_EQ(wrong.Int(0, 0), 0) << "first row missed or wrong: id " << wrong.Text(0, 1);
  EXPECT_EQ(conn.Exec("SELECT count(*), count(DISTINCT id) FROM items").Int(0, 0), kRows - 1);
  EXPECT_EQ(conn.Exec("SELECT count(DISTINCT id) FROM items").Int(0, 0), kRows - 1);
  EXPECT_EQ(conn.Exec("SELECT v FROM items WHERE id = $1", {std::to_string(kRows)}).Int(0, 0), 5);
  std::filesystem::remove(file);
}

TEST(ResumeAfterKillTest, SecondRunWithNoWaitRefusesWhileTheLockIsHeldAndChangesNothing) {
  std::string db = testing::FreshDatabase();
  pg::Connection conn = testing::Connect(db);
  conn.Run(
      "CREATE TABLE items (id int PRIMARY KEY, v int NOT NULL); INSERT INTO items VALUES (1, 1);");
  engine::State(conn).Init();
  std::string file = MigrationFile();
  std::string out;
  {
    pg::Connection holder = testing::Connect(db);
    pg::AdvisoryLock lock(holder, "public", false);
    EXPECT_EQ(testing::RunZerodown("--postgres-url '" + db + "' start --no-wait " + file, &out), 2)
        << out;
    EXPECT_NE(out.find(std::to_string(holder.BackendPid())), std::string::npos)
        << "the refusal names the holder: " << out;
    auto items = pg::DescribeTable(conn, "public", "items");
    EXPECT_EQ(items->columns.size(), 2u) << "nothing changed";
    EXPECT_EQ(conn.Exec("SELECT count(*) FROM zerodown.migrations").Int(0, 0), 0);
  }
  // Released: the same command now runs.
  EXPECT_EQ(testing::RunZerodown("--postgres-url '" + db + "' start --no-wait " + file, &out), 0)
      << out;
  std::filesystem::remove(file);
}

}  // namespace
}  // namespace zerodown
