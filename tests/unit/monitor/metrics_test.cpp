#include "zerodown/monitor/metrics.hpp"

#include <gtest/gtest.h>

namespace zerodown::monitor {
namespace {

class Recording final : public ProgressSink {
 public:
  void OnAction(const ActionEvent& a) override {
    events.push_back("action " + std::string(PlanPhaseName(a.phase)));
  }
  void OnBackfill(const BackfillProgress& p) override { events.push_back("backfill " + p.table); }
  void OnLockRetry(const std::string& d, int, std::chrono::milliseconds) override {
    events.push_back("retry " + d);
  }
  void OnCopyStage(CopyStage, const std::string& table) override {
    events.push_back("stage " + table);
  }
  void OnMessage(const std::string& m) override { events.push_back("message " + m); }
  std::vector<std::string> events;
};

bool Has(const std::string& text, const std::string& line) {
  return text.find(line) != std::string::npos;
}

TEST(Metrics, EveryFamilyIsThereFromTheStart) {
  Metrics m;
  std::string text = m.Render();
  for (const char* name :
       {"zerodown_migration_phase", "zerodown_replication_lag_bytes",
        "zerodown_throttled_seconds_total", "zerodown_lock_retries_total", "zerodown_throttled"}) {
    EXPECT_TRUE(Has(text, std::string("# TYPE ") + name + " ")) << name << "\n" << text;
  }
  EXPECT_TRUE(Has(text, "zerodown_migration_phase{phase=\"idle\"} 1")) << text;
}

TEST(Metrics, ProgressEventsBecomeMetricsAndPassThrough) {
  Metrics m;
  Recording inner;
  MetricsProgress p(m, inner);
  p.OnAction({PlanPhase::kStart, 1, 3, "add column"});
  BackfillProgress b;
  b.table = "users";
  b.rows_done = 500;
  b.rows_total = 1000;
  b.rows_per_second = 250;
  b.last_chunk_ms = 40;
  p.OnBackfill(b);
  p.OnLockRetry("alter", 1, std::chrono::milliseconds(10));
  p.OnLockRetry("alter", 2, std::chrono::milliseconds(20));
  p.OnCopyStage(CopyStage::kSwapped, "users");
  p.OnMessage("hello");
  p.OnThrottle("lag");
  p.OnResume(std::chrono::duration<double>(1.5));
  ThrottleSignals s;
  s.standbys = {{"r", 4096, 1.0}};
  p.OnSample(s);
  p.OnSampleError(Error(ErrorKind::kConnection, "x"));
  HealthVerdict v;
  CheckResult c;
  c.check = "error_rate";
  c.state = HealthState::kRollback;
  v.checks.push_back(c);
  p.OnHealth(v);

  EXPECT_EQ(inner.events,
            (std::vector<std::string>{"action start", "backfill users", "retry alter",
                                      "retry alter", "stage users", "message hello"}));
  std::string text = m.Render();
  EXPECT_TRUE(Has(text, "zerodown_migration_phase{phase=\"start\"} 1")) << text;
  EXPECT_TRUE(Has(text, "zerodown_migration_phase{phase=\"idle\"} 0")) << text;
  EXPECT_TRUE(Has(text, "zerodown_backfill_rows_done{table=\"users\"} 500")) << text;
  EXPECT_TRUE(Has(text, "zerodown_backfill_rows_total{table=\"users\"} 1000")) << text;
  EXPECT_TRUE(Has(text, "zerodown_backfill_rows_per_second{table=\"users\"} 250")) << text;
  EXPECT_TRUE(
      Has(text, "zerodown_backfill_chunk_duration_seconds_bucket{table=\"users\",le=\"0.05\"} 1"))
      << text;
  EXPECT_TRUE(
      Has(text, "zerodown_backfill_chunk_duration_seconds_bucket{table=\"users\",le=\"0.025\"} 0"))
      << text;
  EXPECT_TRUE(Has(text, "zerodown_lock_retries_total 2")) << text;
  EXPECT_TRUE(Has(text, "zerodown_throttled_seconds_total 1.5")) << text;
  EXPECT_TRUE(Has(text, "zerodown_throttled 0")) << text;
  EXPECT_TRUE(Has(text, "zerodown_replication_lag_bytes 4096")) << text;
  EXPECT_TRUE(Has(text, "zerodown_errors_total{kind=\"monitor_sample\"} 1")) << text;
  EXPECT_TRUE(Has(text, "zerodown_health_check_state{check=\"error_rate\"} 2")) << text;
}

TEST(Metrics, ServeRejectsABadAddress) {
  Metrics m;
  auto status = m.Serve("not-an-address:99999");
  ASSERT_FALSE(status.ok());
  EXPECT_EQ(status.error().kind(), ErrorKind::kUsage);
  EXPECT_EQ(m.port(), 0);
}

TEST(Metrics, ReporterQueuesHealthMessagesUntilFlush) {
  Recording sink;
  ProgressReporter r(sink);
  r.OnThrottle("pause file /tmp/x exists");
  r.OnResume(std::chrono::duration<double>(2.0));
  HealthVerdict v;
  v.state = HealthState::kAlert;
  CheckResult c;
  c.check = "error_rate";
  c.state = HealthState::kAlert;
  c.message = "error rate 2.0% > 1%";
  v.checks.push_back(c);
  r.OnAlert(v);
  EXPECT_EQ(sink.events.size(), 2u);
  r.Flush();
  EXPECT_EQ(sink.events,
            (std::vector<std::string>{"message throttled: pause file /tmp/x exists; waiting",
                                      "message resumed after 2.0 s",
                                      "message health alert: error rate 2.0% > 1%"}));
}

}  // namespace
}  // namespace zerodown::monitor
