#include "zerodown/monitor/pair_metrics.hpp"

#include <gtest/gtest.h>

namespace zerodown::monitor {
namespace {

bool Has(const std::string& text, const std::string& line) {
  return text.find(line) != std::string::npos;
}

TEST(PairMetrics, ASampleBecomesEveryGauge) {
  PairMetrics m;
  PairSample sample;
  sample.lag_bytes = 4096;
  sample.lag_seconds = 0.25;
  sample.tables_total = 3;
  sample.tables_ready = 2;
  sample.guardrails = {{"lag", true}, {"long transaction", false}};
  m.Set(sample);
  std::string text = m.Render();
  for (const char* line :
       {"zerodown_bluegreen_serving{side=\"blue\"} 1",
        "zerodown_bluegreen_serving{side=\"green\"} 0", "zerodown_bluegreen_switching 0",
        "zerodown_bluegreen_lag_bytes 4096", "zerodown_bluegreen_lag_seconds 0.25",
        "zerodown_bluegreen_tables 3", "zerodown_bluegreen_tables_ready 2",
        "zerodown_bluegreen_guardrail_ok{guardrail=\"lag\"} 1",
        "zerodown_bluegreen_guardrail_ok{guardrail=\"long_transaction\"} 0"}) {
    EXPECT_TRUE(Has(text, line)) << line << "\n" << text;
  }
}

TEST(PairMetrics, AfterASwitchGreenServesAndAnUnknownLagIsNaN) {
  PairMetrics m;
  PairSample sample;
  sample.green_serves = true;
  sample.switching = true;
  m.Set(sample);
  std::string text = m.Render();
  EXPECT_TRUE(Has(text, "zerodown_bluegreen_serving{side=\"green\"} 1")) << text;
  EXPECT_TRUE(Has(text, "zerodown_bluegreen_serving{side=\"blue\"} 0")) << text;
  EXPECT_TRUE(Has(text, "zerodown_bluegreen_switching 1")) << text;
  EXPECT_TRUE(Has(text, "zerodown_bluegreen_lag_bytes Nan")) << text;
}

}  // namespace
}  // namespace zerodown::monitor
