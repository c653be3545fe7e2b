#include "zerodown/monitor/throttler.hpp"

#include <gtest/gtest.h>
#include <unistd.h>

#include <atomic>
#include <filesystem>
#include <fstream>
#include <thread>

namespace zerodown::monitor {
namespace {

using namespace std::chrono_literals;

// A signal source the test steers; counts how often it is asked.
class FakeSignals final : public SignalSource {
 public:
  ThrottleSignals Sample() override {
    ++samples;
    std::lock_guard lock(mutex);
    if (fail) throw Error(ErrorKind::kConnection, "gone");
    return signals;
  }
  ControlValues ReadControl(const std::string& schema) override {
    ++control_reads;
    std::lock_guard lock(mutex);
    last_schema = schema;
    if (fail_control) throw Error(ErrorKind::kConnection, "gone");
    return control;
  }
  std::mutex mutex;
  ThrottleSignals signals;
  ControlValues control;
  bool fail = false;
  bool fail_control = false;
  std::string last_schema;
  std::atomic<int> samples{0};
  std::atomic<int> control_reads{0};
};

class Recorder final : public ThrottleObserver {
 public:
  void OnThrottle(const std::string& reason) override { reasons.push_back(reason); }
  void OnResume(std::chrono::duration<double> waited) override { resumes.push_back(waited); }
  void OnSample(const ThrottleSignals&) override { ++samples; }
  void OnSampleError(const Error&) override { ++errors; }
  std::vector<std::string> reasons;
  std::vector<std::chrono::duration<double>> resumes;
  int samples = 0;
  int errors = 0;
};

ThrottlerOptions Fast() {
  ThrottlerOptions o;
  o.schema = "app";
  o.sample_interval = 10ms;
  o.control_interval = 10ms;
  o.poll_interval = 5ms;
  return o;
}

TEST(Throttler, ReturnsAtOnceWhenAllIsWell) {
  auto fake = std::make_unique<FakeSignals>();
  Throttler t(std::move(fake), Fast());
  auto start = std::chrono::steady_clock::now();
  t.WaitIfNeeded();
  EXPECT_LT(std::chrono::steady_clock::now() - start, 50ms);
  EXPECT_EQ(t.ThrottledTime().count(), 0);
  EXPECT_EQ(t.Reason(), "");
}

TEST(Throttler, SamplesAtMostOncePerInterval) {
  auto fake = std::make_unique<FakeSignals>();
  auto* f = fake.get();
  ThrottlerOptions o = Fast();
  o.sample_interval = 250ms;
  o.control_interval = 1000ms;
  Throttler t(std::move(fake), o);
  for (int i = 0; i < 1000; ++i) t.WaitIfNeeded();
  EXPECT_EQ(f->samples, 1);
  EXPECT_EQ(f->control_reads, 1);
  EXPECT_EQ(f->last_schema, "app");
}

TEST(Throttler, BlocksWhileOverTheLimitAndReportsWhy) {
  auto fake = std::make_unique<FakeSignals>();
  auto* f = fake.get();
  f->signals.standbys = {{"replica", 1LL << 30, 1.0}};
  Throttler t(std::move(fake), Fast());
  Recorder rec;
  t.AddObserver(&rec);
  std::thread release([f] {
    std::this_thread::sleep_for(200ms);
    std::lock_guard lock(f->mutex);
    f->signals.standbys = {{"replica", 100, 0.0}};
  });
  auto start = std::chrono::steady_clock::now();
  t.WaitIfNeeded();
  auto waited = std::chrono::steady_clock::now() - start;
  release.join();
  EXPECT_GE(waited, 190ms);
  ASSERT_EQ(rec.reasons.size(), 1u);
  EXPECT_NE(rec.reasons[0].find("replication lag 1.0 GB on replica"), std::string::npos);
  ASSERT_EQ(rec.resumes.size(), 1u);
  EXPECT_GE(t.ThrottledTime(), 190ms);
  EXPECT_EQ(t.Reason(), "");
  EXPECT_GT(rec.samples, 2);
}

TEST(Throttler, AWaitForHeadroomAloneIsBoundedByTheTimeTheWorkRan) {
  auto fake = std::make_unique<FakeSignals>();
  auto* f = fake.get();
  f->signals.app_active_baseline = 1;
  Throttler t(std::move(fake), Fast());
  t.WaitIfNeeded();
  std::this_thread::sleep_for(100ms);  // the work ran 100 ms...
  {
    std::lock_guard lock(f->mutex);
    f->signals.app_active = 8;  // ...and the application queues behind it from now on
  }
  std::this_thread::sleep_for(20ms);
  auto start = std::chrono::steady_clock::now();
  t.WaitIfNeeded();
  auto waited = std::chrono::steady_clock::now() - start;
  EXPECT_GE(waited, 300ms);  // three times as long as it ran (120 ms)
  EXPECT_LT(waited, 1000ms);
  // A lock wait beside it is not bounded.
  {
    std::lock_guard lock(f->mutex);
    f->signals.lock_waiters = 9;
  }
  std::thread release([f] {
    std::this_thread::sleep_for(1500ms);
    std::lock_guard lock(f->mutex);
    f->signals.lock_waiters.reset();
  });
  start = std::chrono::steady_clock::now();
  t.WaitIfNeeded();
  waited = std::chrono::steady_clock::now() - start;
  release.join();
  EXPECT_GE(waited, 1400ms);
}

TEST(Throttler, ControlPauseAndOverrides) {
  auto fake = std::make_unique<FakeSignals>();
  auto* f = fake.get();
  f->control.paused = true;
  f->control.chunk_time = 300ms;
  Throttler t(std::move(fake), Fast());
  auto d = t.Check();
  EXPECT_TRUE(d.wait);
  EXPECT_NE(d.reason.find("zerodown pause"), std::string::npos);
  EXPECT_EQ(t.ChunkTime(), 300ms);

  // `set max-lag=` replaces the byte limit: 2 MB of lag is fine under 64 MB, not under 1 MB.
  std::this_thread::sleep_for(20ms);
  {
    std::lock_guard lock(f->mutex);
    f->control = {};
    f->control.max_lag_bytes = 1024 * 1024;
    f->signals.standbys = {{"r", 2 * 1024 * 1024, std::nullopt}};
  }
  EXPECT_TRUE(t.Check().wait);
  std::this_thread::sleep_for(20ms);
  {
    std::lock_guard lock(f->mutex);
    f->control.max_lag_bytes = 64LL * 1024 * 1024;
  }
  EXPECT_FALSE(t.Check().wait);
}

TEST(Throttler, RefreshControlReadsNowAndKeepsTheLastWordOnFailure) {
  auto fake = std::make_unique<FakeSignals>();
  auto* f = fake.get();
  ThrottlerOptions o = Fast();
  o.control_interval = 1h;
  Throttler t(std::move(fake), o);
  Recorder rec;
  t.AddObserver(&rec);
  t.WaitIfNeeded();
  EXPECT_EQ(f->control_reads, 1);
  {
    std::lock_guard lock(f->mutex);
    f->control.cutover_postponed = true;
    f->control.chunk_time = 200ms;
  }
  t.WaitIfNeeded();  // not due for an hour
  EXPECT_EQ(f->control_reads, 1);
  EXPECT_FALSE(t.ChunkTime().has_value());
  EXPECT_TRUE(t.RefreshControl().cutover_postponed);
  EXPECT_EQ(f->control_reads, 2);
  EXPECT_EQ(t.ChunkTime(), 200ms);
  {
    std::lock_guard lock(f->mutex);
    f->fail_control = true;
  }
  // A dropped monitoring connection must not let a postponed cut-over through.
  EXPECT_TRUE(t.RefreshControl().cutover_postponed);
  EXPECT_EQ(t.ChunkTime(), 200ms);
  EXPECT_EQ(rec.errors, 1);
}

TEST(Throttler, PauseFile) {
  std::string path = ::testing::TempDir() + "zerodown_pause_" + std::to_string(getpid());
  std::filesystem::remove(path);
  ThrottlerOptions o = Fast();
  o.pause_file = path;
  Throttler t(std::make_unique<FakeSignals>(), o);
  EXPECT_FALSE(t.Check().wait);
  std::ofstream(path) << "";
  auto d = t.Check();
  EXPECT_TRUE(d.wait);
  EXPECT_NE(d.reason.find(path), std::string::npos);
  std::thread remover([path] {
    std::this_thread::sleep_for(100ms);
    std::filesystem::remove(path);
  });
  t.WaitIfNeeded();
  remover.join();
  EXPECT_GE(t.ThrottledTime(), 90ms);
}

TEST(Throttler, FailedSamplesDoNotThrottle) {
  auto fake = std::make_unique<FakeSignals>();
  fake->fail = true;
  Throttler t(std::move(fake), Fast());
  Recorder rec;
  t.AddObserver(&rec);
  EXPECT_FALSE(t.Check().wait);
  EXPECT_EQ(rec.errors, 1);
}

TEST(Throttler, WhileWaitingCanAbortTheWait) {
  auto fake = std::make_unique<FakeSignals>();
  fake->control.paused = true;
  ThrottlerOptions o = Fast();
  int polls = 0;
  o.while_waiting = [&polls] {
    if (++polls == 3) throw Error(ErrorKind::kMigrationFailed, "health tripped");
  };
  Throttler t(std::move(fake), o);
  Recorder rec;
  t.AddObserver(&rec);
  EXPECT_THROW(t.WaitIfNeeded(), Error);
  EXPECT_EQ(polls, 3);
  EXPECT_EQ(rec.resumes.size(), 1u);  // the waited time is still counted
  EXPECT_GT(t.ThrottledTime().count(), 0);
}

TEST(Throttler, CancelReleasesAWaiter) {
  auto fake = std::make_unique<FakeSignals>();
  fake->control.paused = true;
  Throttler t(std::move(fake), Fast());
  std::thread canceller([&t] {
    std::this_thread::sleep_for(50ms);
    t.Cancel();
  });
  t.WaitIfNeeded();
  canceller.join();
  t.WaitIfNeeded();  // returns at once from now on
  SUCCEED();
}

}  // namespace
}  // namespace zerodown::monitor
