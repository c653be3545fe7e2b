#include "zerodown/monitor/pair_metrics.hpp"

#include <limits>

namespace zerodown::monitor {

namespace {

prometheus::Gauge* OneGauge(prometheus::Registry& r, const std::string& name,
                            const std::string& help) {
  return &prometheus::BuildGauge().Name(name).Help(help).Register(r).Add({});
}

template <typename T>
double OrNan(const std::optional<T>& value) {
  return value ? static_cast<double>(*value) : std::numeric_limits<double>::quiet_NaN();
}

}  // namespace

PairMetrics::PairMetrics() {
  auto& r = endpoint_.registry();
  serving_ = &prometheus::BuildGauge()
                  .Name("zerodown_bluegreen_serving")
                  .Help("1 for the side that serves the application (side=blue|green), else 0")
                  .Register(r);
  switching_ = OneGauge(r, "zerodown_bluegreen_switching",
                        "1 while a switch runs (or was killed and awaits its rerun)");
  lag_bytes_ = OneGauge(r, "zerodown_bluegreen_lag_bytes",
                        "WAL of the serving side its subscriber has not confirmed (NaN: unknown)");
  lag_seconds_ = OneGauge(r, "zerodown_bluegreen_lag_seconds",
                          "How long a heartbeat took to arrive on the other side (NaN: unknown)");
  tables_total_ = OneGauge(r, "zerodown_bluegreen_tables", "Tables the pair replicates");
  tables_ready_ = OneGauge(r, "zerodown_bluegreen_tables_ready",
                           "Tables whose initial copy is done and that replicate");
  guardrail_ok_ = &prometheus::BuildGauge()
                       .Name("zerodown_bluegreen_guardrail_ok")
                       .Help("Per guardrail of a switch: 1 when it would let a switch go")
                       .Register(r);
}

void PairMetrics::Set(const PairSample& sample) {
  serving_->Add({{"side", "blue"}}).Set(sample.green_serves ? 0 : 1);
  serving_->Add({{"side", "green"}}).Set(sample.green_serves ? 1 : 0);
  switching_->Set(sample.switching ? 1 : 0);
  lag_bytes_->Set(OrNan(sample.lag_bytes));
  lag_seconds_->Set(OrNan(sample.lag_seconds));
  tables_total_->Set(sample.tables_total);
  tables_ready_->Set(sample.tables_ready);
  for (const auto& g : sample.guardrails) {
    guardrail_ok_->Add({{"guardrail", GuardrailLabel(g.name)}}).Set(g.ok ? 1 : 0);
  }
}

std::string GuardrailLabel(const std::string& name) {
  std::string label = name;
  for (char& c : label) {
    if (c == ' ' || c == '-') c = '_';
  }
  return label;
}

}  // namespace zerodown::monitor
