// Replication lag on a real streaming standby: the test clones the shared cluster with
// pg_basebackup -R, starts the clone as a hot standby on its own socket, pauses its replay and
// writes WAL on the primary. The throttler sees the lag on that standby and holds the chunk loop
// back; after pg_wal_replay_resume() the standby catches up and the loop goes on.
#include <gtest/gtest.h>

#include <atomic>
#include <thread>

#include "support/chunk_loop.hpp"
#include "support/database.hpp"
#include "support/standby.hpp"
#include "zerodown/monitor/signals.hpp"
#include "zerodown/monitor/throttler.hpp"

namespace zerodown::monitor {
namespace {

using testing::Standby;

using namespace std::chrono_literals;
using Clock = std::chrono::steady_clock;

template <typename Predicate>
bool WaitFor(Predicate done, std::chrono::milliseconds limit) {
  auto until = Clock::now() + limit;
  while (Clock::now() < until) {
    if (done()) return true;
    std::this_thread::sleep_for(100ms);
  }
  return done();
}

TEST(MonitorStandby, PausedReplayHoldsTheLoopBackUntilItResumes) {
  std::string db = testing::FreshDatabase();
  Standby standby;
  pg::Connection primary = testing::Connect(db);
  ASSERT_TRUE(WaitFor(
      [&] {
        return !primary.Exec("SELECT 1 FROM pg_stat_replication WHERE state = 'streaming'").empty();
      },
      30s))
      << "the standby never streamed";
  pg::Connection replica = pg::Connection::Open(standby.ConnInfo());
  // Wait until the standby has replayed the fresh database, so the paused replay is behind only
  // by what this test writes.
  ASSERT_TRUE(WaitFor(
      [&] {
        auto lag = SampleReplicationLag(primary);
        return !lag.empty() && lag[0].bytes && *lag[0].bytes < 64 * 1024;
      },
      30s));

  ThrottlerOptions options;
  options.limits.max_lag_bytes = 1024 * 1024;
  options.limits.max_lag_seconds = 0;  // replay_lag stays NULL or stale while paused; bytes tell
  options.limits.max_probe_latency_ratio = 0;
  options.limits.max_lock_waiters = 0;
  Throttler throttler(MakeDatabaseSignals(db, options), options);
  EXPECT_FALSE(throttler.Check().wait) << throttler.Check().reason;

  replica.Exec("SELECT pg_wal_replay_pause()");
  primary.Run(
      "CREATE TABLE filler AS SELECT g AS id, repeat('x', 200) AS pad "
      "FROM generate_series(1, 30000) g");
  ASSERT_TRUE(WaitFor(
      [&] {
        auto lag = SampleReplicationLag(primary);
        return !lag.empty() && lag[0].bytes && *lag[0].bytes > 2 * 1024 * 1024;
      },
      20s))
      << "no lag built up on the paused standby";

  // The throttler samples at most every 250 ms; past that, the next chunk sees the lag.
  std::this_thread::sleep_for(options.sample_interval + 50ms);
  testing::ChunkLoop loop(throttler);
  std::this_thread::sleep_for(500ms);
  int frozen = loop.chunks();
  std::this_thread::sleep_for(1500ms);
  EXPECT_EQ(frozen, 0) << "a chunk ran over a lagging standby";
  EXPECT_EQ(loop.chunks(), frozen) << "the loop ran on over a lagging standby";
  EXPECT_NE(throttler.Reason().find("replication lag"), std::string::npos) << throttler.Reason();
  EXPECT_NE(throttler.Reason().find("standby1"), std::string::npos) << throttler.Reason();
  auto lag = throttler.LastSignals().MaxLagBytes();
  ASSERT_TRUE(lag.has_value());
  EXPECT_GT(*lag, 2 * 1024 * 1024);

  replica.Exec("SELECT pg_wal_replay_resume()");
  auto resumed = Clock::now();
  EXPECT_TRUE(WaitFor([&] { return loop.chunks() > frozen; }, 20s)) << throttler.Reason();
  EXPECT_LT(Clock::now() - resumed, 20s);
  loop.Stop();
  EXPECT_GE(throttler.ThrottledTime(), 1900ms);
  EXPECT_EQ(throttler.Reason(), "");
}

}  // namespace
}  // namespace zerodown::monitor
