// The Prometheus endpoint on a real backfill: scraped over HTTP on 127.0.0.1 (plain sockets,
// loopback only), it shows the phase, the rows done and total, the chunk histogram and the
// lock-retry counter, in the Prometheus text format.
#include <gtest/gtest.h>

#include "support/database.hpp"
#include "support/http.hpp"
#include "zerodown/engine/backfill.hpp"
#include "zerodown/monitor/metrics.hpp"

namespace zerodown::monitor {
namespace {

using testing::HttpGet;

TEST(MonitorMetrics, ScrapedOverHttpDuringABackfill) {
  std::string db = testing::FreshDatabase();
  pg::Connection conn = testing::Connect(db);
  conn.Run(
      "CREATE TABLE items (id int PRIMARY KEY, v int);"
      "INSERT INTO items SELECT g, g FROM generate_series(1, 3000) g; ANALYZE items;");

  Metrics metrics;
  ASSERT_TRUE(metrics.Serve("127.0.0.1:0").ok());
  ASSERT_GT(metrics.port(), 0);
  EXPECT_NE(HttpGet(metrics.port(), "/metrics").find("zerodown_migration_phase{phase=\"idle\"} 1"),
            std::string::npos);

  SilentProgress silent;
  MetricsProgress progress(metrics, silent);
  progress.OnAction({PlanPhase::kStart, 1, 2, "add column"});
  engine::BackfillOptions options;
  options.first_batch = 500;
  options.max_batch = 500;
  std::string during;
  options.before_batch = [&] {
    if (during.empty() &&
        metrics.Render().find("rows_done{table=\"items\"} 1000") != std::string::npos) {
      during = HttpGet(metrics.port(), "/metrics");
    }
  };
  engine::RunBackfill(
      conn, "public", "items", {"id"}, options, {},
      [](const engine::BackfillCheckpoint&, std::int64_t) {}, progress);
  progress.OnLockRetry("add column", 1, std::chrono::milliseconds(10));

  EXPECT_NE(during.find("zerodown_backfill_rows_done{table=\"items\"} 1000"), std::string::npos)
      << during;
  std::string body = HttpGet(metrics.port(), "/metrics");
  EXPECT_EQ(body.rfind("HTTP/1.1 200", 0), 0u) << body;
  EXPECT_NE(body.find("text/plain"), std::string::npos);
  for (const char* line : {
           "zerodown_migration_phase{phase=\"start\"} 1",
           "zerodown_migration_phase{phase=\"idle\"} 0",
           "zerodown_backfill_rows_done{table=\"items\"} 3000",
           "zerodown_backfill_rows_total{table=\"items\"} 3000",
           "zerodown_backfill_chunk_duration_seconds_count{table=\"items\"} ",
           "zerodown_lock_retries_total 1",
           "zerodown_throttled_seconds_total 0",
           "zerodown_replication_lag_bytes 0",
           "# TYPE zerodown_backfill_chunk_duration_seconds histogram",
           "# TYPE zerodown_lock_retries_total counter",
       }) {
    EXPECT_NE(body.find(line), std::string::npos) << line << "\n" << body;
  }
  EXPECT_NE(body.find("zerodown_backfill_rows_per_second{table=\"items\"} "), std::string::npos);
}

TEST(MonitorMetrics, ABusyPortIsAUsageError) {
  Metrics first;
  ASSERT_TRUE(first.Serve("127.0.0.1:0").ok());
  Metrics second;
  auto status = second.Serve("127.0.0.1:" + std::to_string(first.port()));
  ASSERT_FALSE(status.ok());
  EXPECT_EQ(status.error().kind(), ErrorKind::kUsage);
  EXPECT_NE(status.error().message().find("cannot serve metrics"), std::string::npos);
}

}  // namespace
}  // namespace zerodown::monitor
