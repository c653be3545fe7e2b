// `start --auto-rollback` judges what the application feels. A real pgbench workload (4 clients,
// as many as a 2-core server can take) runs before and during a start held by a pause file, so
// the migration itself does nothing: for 12 s nothing may roll it back, however much a 1 ms probe
// jitters. Then the application really suffers, and the migration must be rolled back within
// 10 s: 10% of its transactions rolling back (judged by the error rate, with the probe as the
// latency source), or its statements made many times slower by a lock another session holds on
// the hot row (judged on pg_stat_statements, each statement against its own mean before).
#include <fcntl.h>
#include <gtest/gtest.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <atomic>
#include <filesystem>
#include <fstream>
#include <memory>
#include <sstream>
#include <thread>

#include "support/database.hpp"
#include "zerodown/pg/cluster.hpp"

namespace zerodown {
namespace {

using namespace std::chrono_literals;
using Clock = std::chrono::steady_clock;

// This binary's own server, with pg_stat_statements loaded (the shared test cluster has not).
pg::TempCluster& Cluster() {
  static auto cluster = [] {
    pg::ClusterOptions options;
    options.settings.emplace_back("shared_preload_libraries", "pg_stat_statements");
    return std::make_unique<pg::TempCluster>(options);
  }();
  return *cluster;
}

std::string Temp(const std::string& name) {
  return ::testing::TempDir() + "zd_autorb_" + std::to_string(getpid()) + "_" + name;
}

// Runs `argv` in the background with stdout and stderr into `log`; returns its pid.
pid_t Spawn(std::vector<std::string> argv, const std::string& log) {
  pid_t pid = fork();
  if (pid == 0) {
    int out = open(log.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
    dup2(out, 1);
    dup2(out, 2);
    std::vector<char*> args;
    for (auto& a : argv) args.push_back(a.data());
    args.push_back(nullptr);
    execv(args[0], args.data());
    _exit(127);
  }
  return pid;
}

std::string ReadFile(const std::string& path) {
  std::ifstream in(path);
  std::stringstream text;
  text << in.rdbuf();
  return text.str();
}

// Exit code once `pid` ended, or nullopt while it runs.
std::optional<int> Ended(pid_t pid) {
  int status = 0;
  if (waitpid(pid, &status, WNOHANG) != pid) return std::nullopt;
  return WIFEXITED(status) ? WEXITSTATUS(status) : 128;
}

void Stop(pid_t pid) {
  if (pid <= 0 || Ended(pid)) return;
  kill(pid, SIGINT);
  waitpid(pid, nullptr, 0);
}

class AutoRollbackTest : public ::testing::Test {
 protected:
  // A pgbench database at scale 1 (pgbench_branches has one row: every transaction updates it),
  // the items table the migration changes, and the migration file.
  void SetUp() override {
    const auto* info = ::testing::UnitTest::GetInstance()->current_test_info();
    name_ = std::string("autorb_") +
            (std::string(info->name()).find("Statements") != std::string::npos ? "statements"
                                                                               : "probe");
    db_ = Cluster().CreateDatabase(name_);
    ASSERT_EQ(std::system((Pgbench() + " -i -q -s 1 " + name_ + " >/dev/null 2>&1").c_str()), 0);
    pg::Connection conn = testing::Connect(db_);
    conn.Run(
        "CREATE TABLE items (id int PRIMARY KEY, v int NOT NULL);"
        "INSERT INTO items SELECT g, g FROM generate_series(1, 1000) g;");
    std::string out;
    ASSERT_EQ(testing::RunZerodown("--postgres-url " + testing::Quoted(db_) + " init", &out), 0)
        << out;
    migration_ = Temp("v_bigint.yaml");
    std::ofstream(migration_) << "operations:\n  - alter_column:\n      table: items\n"
                                 "      column: v\n      type: bigint\n      up: v\n"
                                 "      down: v::integer\n";
    pause_ = Temp("pause");
    std::ofstream(pause_) << "held\n";
  }

  void TearDown() override {
    Stop(start_);
    Stop(pgbench_);
    std::filesystem::remove(pause_);
  }

  std::string Pgbench() const {
    return Cluster().bindir() + "/pgbench -h " + Cluster().socket_dir() + " -p " +
           std::to_string(Cluster().port()) + " -U " + Cluster().superuser();
  }

  // 4 clients, unthrottled, for up to a minute; `script` replaces the built-in TPC-B-like one.
  void RunPgbench(const std::string& script = "") {
    Stop(pgbench_);
    std::vector<std::string> argv = {Cluster().bindir() + "/pgbench",
                                     "-h",
                                     Cluster().socket_dir(),
                                     "-p",
                                     std::to_string(Cluster().port()),
                                     "-U",
                                     Cluster().superuser(),
                                     "-n",
                                     "-c",
                                     "4",
                                     "-j",
                                     "2",
                                     "-T",
                                     "60"};
    if (!script.empty()) {
      std::string path = Temp("script.sql");
      std::ofstream(path) << script;
      argv.insert(argv.end(), {"-f", path});
    }
    argv.push_back(name_);
    pgbench_ = Spawn(argv, Temp("pgbench.log"));
  }

  // `start --auto-rollback`, held by the pause file before its first backfill batch.
  void Start() {
    log_ = Temp("start.log");
    start_ = Spawn({ZERODOWN_BINARY, "--postgres-url", db_, "start", "--auto-rollback",
                    "--mechanism", "inplace", "--pause-file", pause_, migration_},
                   log_);
  }

  // The healthy phase: the start is still waiting after `seconds`, no rollback.
  void ExpectHealthyFor(std::chrono::seconds seconds) {
    auto until = Clock::now() + seconds;
    while (Clock::now() < until) {
      auto code = Ended(start_);
      ASSERT_FALSE(code.has_value())
          << "start ended (exit " << *code << ") on a healthy workload:\n"
          << ReadFile(log_);
      std::this_thread::sleep_for(200ms);
    }
  }

  // The start ends rolled back within 10 s of `since`, naming `reason`.
  void ExpectRolledBackWithin10s(Clock::time_point since, const std::string& reason) {
    std::optional<int> code;
    while (!code && Clock::now() - since < 15s) {
      std::this_thread::sleep_for(100ms);
      code = Ended(start_);
    }
    ASSERT_TRUE(code.has_value()) << "no rollback 15 s into a real degradation:\n"
                                  << ReadFile(log_);
    start_ = -1;
    auto took = std::chrono::duration<double>(Clock::now() - since).count();
    std::string log = ReadFile(log_);
    EXPECT_EQ(*code, 1) << log;
    EXPECT_LT(took, 10.0) << log;
    EXPECT_NE(log.find("automatic rollback: " + reason), std::string::npos) << log;
    pg::Connection conn = testing::Connect(db_);
    // Rolled back: the old column alone, as before the start.
    EXPECT_EQ(conn.Exec("SELECT count(*) FROM pg_attribute WHERE attrelid = 'items'::regclass "
                        "AND attnum > 0 AND NOT attisdropped")
                  .Int(0, 0),
              2);
    EXPECT_EQ(conn.Exec("SELECT format_type(atttypid, atttypmod) FROM pg_attribute "
                        "WHERE attrelid = 'items'::regclass AND attname = 'v'")
                  .Text(0, 0),
              "integer");
  }

  std::string name_, db_, migration_, pause_, log_;
  pid_t pgbench_ = -1;
  pid_t start_ = -1;
};

TEST_F(AutoRollbackTest, ProbeHealthyThenTenPercentRollbacks) {
  RunPgbench();
  std::this_thread::sleep_for(2s);
  Start();
  ExpectHealthyFor(12s);
  if (HasFatalFailure()) return;
  // One transaction in ten rolls back, the rest as before.
  RunPgbench(
      "\\set aid random(1, 100000)\n\\set r random(1, 10)\nBEGIN;\n"
      "UPDATE pgbench_accounts SET abalance = abalance + 1 WHERE aid = :aid;\n"
      "SELECT abalance FROM pgbench_accounts WHERE aid = :aid;\n"
      "\\if :r = 1\nROLLBACK;\n\\else\nEND;\n\\endif\n");
  ExpectRolledBackWithin10s(Clock::now(), "error rate");
}

TEST_F(AutoRollbackTest, StatementsHealthyThenAHotRowLocked) {
  pg::Connection conn = testing::Connect(db_);
  conn.Run("CREATE EXTENSION pg_stat_statements; SELECT pg_stat_statements_reset();");
  RunPgbench();
  // The statements' history before the migration is the yardstick.
  std::this_thread::sleep_for(3s);
  Start();
  ExpectHealthyFor(12s);
  if (HasFatalFailure()) return;
  // Another session holds the one branch row 400 ms at a time: every transaction queues on it.
  std::atomic<bool> stop{false};
  std::thread locker([&] {
    pg::Connection c = pg::Connection::Open(db_, "locker");
    while (!stop) {
      c.Run(
          "BEGIN; SELECT 1 FROM pgbench_branches WHERE bid = 1 FOR UPDATE; "
          "SELECT pg_sleep(0.4); COMMIT;");
    }
  });
  ExpectRolledBackWithin10s(Clock::now(), "application statements take");
  stop = true;
  locker.join();
}

}  // namespace
}  // namespace zerodown
