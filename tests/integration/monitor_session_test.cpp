// The bundle the CLI uses, on a real server: metrics served, a pause file holds BeforeBatch back,
// and a consistency failure reported to the health monitor makes BeforeBatch throw the
// automatic-rollback error (also from inside a throttled wait).
#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <thread>

#include "support/database.hpp"
#include "zerodown/monitor/session.hpp"

namespace zerodown::monitor {
namespace {

using namespace std::chrono_literals;

TEST(MonitorSession, WiresThrottlerHealthAndMetrics) {
  std::string db = testing::FreshDatabase();
  std::string pause = ::testing::TempDir() + "zerodown_session_" + std::to_string(getpid());
  std::filesystem::remove(pause);
  SessionOptions options;
  options.conninfo = db;
  options.metrics_addr = "127.0.0.1:0";
  options.throttle.pause_file = pause;
  options.health.auto_rollback = true;
  options.health.interval = 200ms;
  // Only the consistency failure below may trip it: on a machine busy with other tests the probe
  // latency alone went over 2x its baseline and made the message name both.
  options.health.thresholds.alert_latency_ratio = 1e9;
  options.health.thresholds.rollback_latency_ratio = 1e9;
  options.health.thresholds.alert_error_rate = 2;
  options.health.thresholds.rollback_error_rate = 2;
  SilentProgress silent;
  Session session(options, silent);
  ASSERT_NE(session.metrics(), nullptr);
  EXPECT_GT(session.metrics()->port(), 0);
  EXPECT_NE(&session.progress(), static_cast<ProgressSink*>(&silent));
  session.BeforeBatch();  // nothing to wait for

  std::ofstream(pause) << "";
  std::thread tripper([&session] {
    std::this_thread::sleep_for(300ms);
    session.health()->ReportConsistencyFailure("checksum of chunk 7 differs");
  });
  try {
    session.BeforeBatch();
    ADD_FAILURE() << "BeforeBatch returned while paused and tripped";
  } catch (const Error& e) {
    EXPECT_EQ(e.kind(), ErrorKind::kMigrationFailed);
    EXPECT_EQ(e.message(),
              "automatic rollback: consistency check failed: checksum of chunk 7 differs");
  }
  tripper.join();
  std::filesystem::remove(pause);
  EXPECT_GT(session.throttler().ThrottledTime().count(), 0.2);
  session.RecordError(Error(ErrorKind::kMigrationFailed, "x"));
  std::string text = session.metrics()->Render();
  EXPECT_NE(text.find("zerodown_errors_total{kind=\""), std::string::npos) << text;
  EXPECT_NE(text.find("zerodown_health_check_state{check=\"consistency\"} 2"), std::string::npos)
      << text;
}

}  // namespace
}  // namespace zerodown::monitor
