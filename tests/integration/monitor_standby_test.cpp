// Replication lag on a real streaming standby: the test clones the shared cluster with
// pg_basebackup -R, starts the clone as a hot standby on its own socket, pauses its replay and
// writes WAL on the primary. The throttler sees the lag on that standby and holds the chunk loop
// back; after pg_wal_replay_resume() the standby catches up and the loop goes on.
#include <gtest/gtest.h>
#include <pwd.h>
#include <unistd.h>

#include <atomic>
#include <filesystem>
#include <thread>

#include "support/database.hpp"
#include "zerodown/monitor/signals.hpp"
#include "zerodown/monitor/throttler.hpp"
#include "zerodown/pg/cluster.hpp"

namespace zerodown::monitor {
namespace {

using namespace std::chrono_literals;
using Clock = std::chrono::steady_clock;

// A hot standby of the shared cluster in a temporary directory; stopped and removed on
// destruction.
class Standby {
 public:
  Standby() {
    auto& primary = testing::SharedCluster();
    std::string templ =
        (std::filesystem::temp_directory_path() / "zerodown-standby-XXXXXX").string();
    if (mkdtemp(templ.data()) == nullptr) throw std::runtime_error("mkdtemp failed");
    dir_ = templ;
    if (geteuid() == 0) {
      // The server runs as `postgres`; it must own the directory it writes its socket in.
      const passwd* pg = getpwnam("postgres");
      if (pg == nullptr || chown(dir_.c_str(), pg->pw_uid, pg->pw_gid) != 0) {
        throw std::runtime_error("cannot hand " + dir_ + " to postgres");
      }
    }
    data_ = dir_ + "/data";
    bindir_ = primary.bindir();
    // Written by the server itself (as postgres), so not opened by us first.
    log_ = dir_ + "/standby.log";
    int rc = pg::RunAsServerUser(
        {bindir_ + "/pg_basebackup", "-D", data_, "-R", "-X", "stream", "-c", "fast", "-h",
         primary.socket_dir(), "-p", std::to_string(primary.port()), "-U", primary.superuser()},
        dir_ + "/basebackup.log");
    if (rc != 0) throw std::runtime_error("pg_basebackup failed, see " + dir_ + "/basebackup.log");
    port_ = primary.port() + 1;
    // A hot standby needs max_connections and friends at least as high as the primary's.
    std::string options = "-p " + std::to_string(port_) + " -k " + dir_;
    for (const auto& [name, value] : pg::ClusterOptions{}.settings) {
      options += " -c " + name + "=" + (value.empty() ? "''" : value);
    }
    // Report replay progress every second, not every ten, so a resumed standby shows at once.
    options += " -c hot_standby=on -c wal_receiver_status_interval=1 -c cluster_name=standby1";
    rc = pg::RunAsServerUser(
        {bindir_ + "/pg_ctl", "-D", data_, "-o", options, "-l", log_, "-w", "-t", "60", "start"},
        dir_ + "/pg_ctl.log");
    if (rc != 0) throw std::runtime_error("the standby did not start, see " + log_);
    running_ = true;
  }
  ~Standby() {
    if (running_) {
      pg::RunAsServerUser({bindir_ + "/pg_ctl", "-D", data_, "-m", "immediate", "-w", "stop"},
                          "/dev/null");
    }
    std::error_code ignored;
    std::filesystem::remove_all(dir_, ignored);
  }
  std::string ConnInfo() const {
    return "host=" + dir_ + " port=" + std::to_string(port_) +
           " user=" + testing::SharedCluster().superuser() + " dbname=postgres";
  }

 private:
  std::string dir_, data_, bindir_, log_;
  int port_ = 0;
  bool running_ = false;
};

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
  std::atomic<int> chunks{0};
  std::atomic<bool> stop{false};
  std::thread loop([&] {
    while (!stop) {
      throttler.WaitIfNeeded();
      ++chunks;
      std::this_thread::sleep_for(10ms);
    }
  });
  std::this_thread::sleep_for(500ms);
  int frozen = chunks;
  std::this_thread::sleep_for(1500ms);
  EXPECT_EQ(frozen, 0) << "a chunk ran over a lagging standby";
  EXPECT_EQ(chunks, frozen) << "the loop ran on over a lagging standby";
  EXPECT_NE(throttler.Reason().find("replication lag"), std::string::npos) << throttler.Reason();
  EXPECT_NE(throttler.Reason().find("standby1"), std::string::npos) << throttler.Reason();
  auto lag = throttler.LastSignals().MaxLagBytes();
  ASSERT_TRUE(lag.has_value());
  EXPECT_GT(*lag, 2 * 1024 * 1024);

  replica.Exec("SELECT pg_wal_replay_resume()");
  auto resumed = Clock::now();
  EXPECT_TRUE(WaitFor([&] { return chunks > frozen; }, 20s)) << throttler.Reason();
  EXPECT_LT(Clock::now() - resumed, 20s);
  stop = true;
  throttler.Cancel();
  loop.join();
  EXPECT_GE(throttler.ThrottledTime(), 1900ms);
  EXPECT_EQ(throttler.Reason(), "");
}

}  // namespace
}  // namespace zerodown::monitor
