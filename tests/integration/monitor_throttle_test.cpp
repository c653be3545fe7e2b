// The throttler on a real server: while a pause file exists no backfill chunk runs, and the pass
// goes on when it is removed; `zerodown pause` / `resume` / `set` reach a running throttler
// through zerodown.control; a client kept waiting on a row a zerodown session locked is counted
// as a lock waiter; an application that keeps every connection inside a transaction leaves no
// headroom to wait for.
#include <gtest/gtest.h>
#include <unistd.h>

#include <atomic>
#include <filesystem>
#include <fstream>
#include <thread>
#include <vector>

#include "support/chunk_loop.hpp"
#include "support/database.hpp"
#include "zerodown/engine/backfill.hpp"
#include "zerodown/monitor/control.hpp"
#include "zerodown/monitor/signals.hpp"
#include "zerodown/monitor/throttler.hpp"

namespace zerodown::monitor {
namespace {

using namespace std::chrono_literals;
using Clock = std::chrono::steady_clock;

class CountingProgress final : public ProgressSink {
 public:
  void OnAction(const ActionEvent&) override {}
  void OnCopyStage(CopyStage, const std::string&) override {}
  void OnBackfill(const BackfillProgress& p) override {
    ++chunks;
    rows = p.rows_done;
  }
  void OnLockRetry(const std::string&, int, std::chrono::milliseconds) override {}
  void OnMessage(const std::string&) override {}
  std::atomic<int> chunks{0};
  std::atomic<std::int64_t> rows{0};
};

std::string Table(int rows) {
  std::string db = testing::FreshDatabase();
  pg::Connection conn = testing::Connect(db);
  conn.Run(
      "CREATE TABLE items (id int PRIMARY KEY, v int);"
      "INSERT INTO items SELECT g, g FROM generate_series(1, " +
      std::to_string(rows) + ") g; ANALYZE items;");
  return db;
}

std::string Quote(const std::string& conninfo) { return "'" + conninfo + "'"; }

TEST(MonitorThrottle, NoChunkRunsWhileThePauseFileExists) {
  std::string db = Table(5000);
  std::string pause = ::testing::TempDir() + "zerodown_pause_" + std::to_string(getpid());
  std::ofstream(pause) << "";
  ThrottlerOptions options;
  options.pause_file = pause;
  Throttler throttler(MakeDatabaseSignals(db, options), options);

  pg::Connection conn = testing::Connect(db);
  CountingProgress progress;
  engine::BackfillOptions backfill;
  backfill.first_batch = 100;
  backfill.max_batch = 100;
  backfill.before_batch = [&throttler] { throttler.WaitIfNeeded(); };
  std::thread pass([&] {
    engine::RunBackfill(
        conn, "public", "items", {"id"}, backfill, {},
        [](const engine::BackfillCheckpoint&, std::int64_t) {}, progress);
  });
  std::this_thread::sleep_for(1500ms);
  EXPECT_EQ(progress.chunks, 0) << "a chunk ran while " << pause << " existed";
  EXPECT_NE(throttler.Reason().find("pause file " + pause + " exists"), std::string::npos)
      << throttler.Reason();
  auto removed = Clock::now();
  std::filesystem::remove(pause);
  pass.join();
  EXPECT_LT(Clock::now() - removed, 10s);
  EXPECT_EQ(progress.rows, 5000);
  EXPECT_GE(throttler.ThrottledTime(), 1400ms);
  EXPECT_EQ(throttler.Reason(), "");
}

TEST(MonitorThrottle, PauseResumeAndSetThroughTheControlTable) {
  std::string db = Table(10);
  ThrottlerOptions options;
  options.schema = "public";
  Throttler throttler(MakeDatabaseSignals(db, options), options);
  EXPECT_FALSE(throttler.Check().wait);

  std::string out;
  ASSERT_EQ(testing::RunZerodown("pause --postgres-url " + Quote(db), &out), 0) << out;
  EXPECT_NE(out.find("paused the migration of schema \"public\""), std::string::npos) << out;

  testing::ChunkLoop loop(throttler);
  // The control rows are read at most once a second: the pause lands within about that.
  std::this_thread::sleep_for(1500ms);
  int frozen = loop.chunks();
  std::this_thread::sleep_for(1000ms);
  EXPECT_EQ(loop.chunks(), frozen) << "chunks ran while paused";
  EXPECT_NE(throttler.Reason().find("paused by `zerodown pause`"), std::string::npos)
      << throttler.Reason();

  ASSERT_EQ(testing::RunZerodown("resume --postgres-url " + Quote(db), &out), 0) << out;
  auto resumed = Clock::now();
  while (loop.chunks() == frozen && Clock::now() - resumed < 5s) std::this_thread::sleep_for(20ms);
  EXPECT_LT(Clock::now() - resumed, 2500ms);
  EXPECT_GT(loop.chunks(), frozen);
  loop.Stop();

  ASSERT_EQ(
      testing::RunZerodown("set chunk-time=300ms max-lag=32MB --postgres-url " + Quote(db), &out),
      0)
      << out;
  std::this_thread::sleep_for(1100ms);
  throttler.Check();
  EXPECT_EQ(throttler.ChunkTime(), 300ms);
  pg::Connection conn = testing::Connect(db);
  EXPECT_EQ(ReadControl(conn, "public").max_lag_bytes, 32LL * 1024 * 1024);

  // A typo changes nothing and says what is accepted.
  EXPECT_NE(testing::RunZerodown("set chunk-time=1ms --postgres-url " + Quote(db), &out), 0);
  EXPECT_NE(out.find("chunk time"), std::string::npos) << out;
  EXPECT_NE(testing::RunZerodown("set speed=fast --postgres-url " + Quote(db), &out), 0);
  EXPECT_EQ(ReadControl(conn, "public").chunk_time, 300ms);
  ASSERT_EQ(testing::RunZerodown("set chunk-time=default --postgres-url " + Quote(db), &out), 0)
      << out;
  EXPECT_FALSE(ReadControl(conn, "public").chunk_time.has_value());
}

TEST(MonitorThrottle, CountsClientsWaitingOnOurLocks) {
  std::string db = Table(10);
  pg::Connection ours = pg::Connection::Open(db, "zerodown");
  pg::Connection app = pg::Connection::Open(db, "app");
  pg::Connection monitor = pg::Connection::Open(db, "zerodown-monitor");
  EXPECT_EQ(CountLockWaiters(monitor, {monitor.Ident("public", "items")}, 100ms), 0);

  ours.Run("BEGIN; UPDATE items SET v = v WHERE id = 1;");
  std::thread blocked([&app] { app.Exec("UPDATE items SET v = v + 1 WHERE id = 1"); });
  std::this_thread::sleep_for(400ms);
  EXPECT_EQ(CountLockWaiters(monitor, {}, 100ms), 1);
  // Waits shorter than min_wait are ordinary traffic.
  EXPECT_EQ(CountLockWaiters(monitor, {}, 60s), 0);

  ThrottleSignals s;
  s.lock_waiters = CountLockWaiters(monitor, {}, 100ms);
  ThrottleLimits strict;
  strict.max_lock_waiters = 0;
  EXPECT_FALSE(Decide(s, strict).wait);  // 0 turns the signal off
  strict.max_lock_waiters = 1;
  EXPECT_FALSE(Decide(s, strict).wait);  // at the limit
  s.lock_waiters = 2;
  EXPECT_TRUE(Decide(s, strict).wait);

  ours.Run("ROLLBACK");
  blocked.join();
}

TEST(MonitorThrottle, SamplesAnIdleServerWithoutThrottling) {
  std::string db = Table(10);
  ThrottlerOptions options;
  options.limits.max_active = 50;
  options.tables = {"public.items"};
  auto source = MakeDatabaseSignals(db, options);
  ThrottleSignals s = source->Sample();
  EXPECT_TRUE(s.standbys.empty());
  ASSERT_TRUE(s.lock_waiters.has_value());
  EXPECT_EQ(*s.lock_waiters, 0);
  ASSERT_TRUE(s.probe_latency.has_value());
  ASSERT_TRUE(s.active_connections.has_value());
  EXPECT_LT(*s.active_connections, 50);
  EXPECT_GT(s.probe_baseline->count(), 0);
  // A probe on 2 shared cores swings by 10x; whether it throttles is the unit tests' business.
  ThrottleLimits limits = options.limits;
  limits.max_probe_latency_ratio = 0;
  EXPECT_FALSE(Decide(s, limits).wait) << Decide(s, limits).reason;
}

// `clients` sessions named "app" that run transactions of two updates, back to back, with
// `inside` of client work between the two statements and `between` after each commit.
class TransactionLoop {
 public:
  TransactionLoop(const std::string& db, int clients, std::chrono::milliseconds inside,
                  std::chrono::milliseconds between) {
    for (int i = 0; i < clients; ++i) {
      threads_.emplace_back([this, db, i, inside, between] {
        pg::Connection app = pg::Connection::Open(db, "app");
        std::string row = std::to_string(i + 1);
        ++connected_;
        while (!stop_) {
          app.Run("BEGIN; UPDATE items SET v = v + 1 WHERE id = " + row);
          std::this_thread::sleep_for(inside);
          app.Run("UPDATE items SET v = v - 1 WHERE id = " + row + "; COMMIT");
          std::this_thread::sleep_for(between);
        }
      });
    }
    while (connected_ < clients) std::this_thread::sleep_for(10ms);
    std::this_thread::sleep_for(200ms);  // a few rounds each
  }
  ~TransactionLoop() {
    stop_ = true;
    for (auto& t : threads_) t.join();
  }

 private:
  std::atomic<bool> stop_{false};
  std::atomic<int> connected_{0};
  std::vector<std::thread> threads_;
};

// A closed loop whose sessions wait on their clients between statements has few sessions
// active, but every connection inside a transaction: no headroom, so no line to wait under.
// The same clients with idle time between transactions leave headroom.
TEST(MonitorThrottle, AnApplicationBusyBetweenItsStatementsLeavesNoHeadroom) {
  std::string db = Table(10);
  ThrottlerOptions options;
  {
    TransactionLoop closed_loop(db, 4, 50ms, 0ms);
    auto source = MakeDatabaseSignals(db, options);
    std::optional<ApplicationLevel> level = source->ApplicationBaseline();
    ASSERT_TRUE(level.has_value());
    EXPECT_EQ(level->connections, 4);
    EXPECT_LT(level->active, 1.0);
    EXPECT_GT(level->in_transaction, 3.0);
    EXPECT_TRUE(KeepsEveryConnectionBusy(*level));
    EXPECT_FALSE(LeavesHeadroom(*level, options.limits));
    EXPECT_FALSE(source->Sample().app_active_baseline.has_value());
  }
  TransactionLoop with_idle_time(db, 4, 1ms, 50ms);
  auto source = MakeDatabaseSignals(db, options);
  std::optional<ApplicationLevel> level = source->ApplicationBaseline();
  ASSERT_TRUE(level.has_value());
  EXPECT_LT(level->in_transaction, 2.0);
  EXPECT_TRUE(LeavesHeadroom(*level, options.limits));
  EXPECT_TRUE(source->Sample().app_active_baseline.has_value());
}

}  // namespace
}  // namespace zerodown::monitor
