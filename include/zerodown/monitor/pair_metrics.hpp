// Prometheus metrics of a blue-green pair, served by `zerodown bluegreen status --watch
// --metrics-addr`: which side serves, whether a switch runs, the replication lag in bytes and
// seconds, the initial copy's tables, and each guardrail of a switch. It takes plain values (the
// CLI maps bluegreen's status report onto them), so the monitor knows nothing of blue-green. The
// names are documented in docs/bluegreen.md.
#pragma once

#include <prometheus/family.h>
#include <prometheus/gauge.h>

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "zerodown/common/error.hpp"
#include "zerodown/monitor/endpoint.hpp"

namespace zerodown::monitor {

struct PairGuardrail {
  std::string name;  // as status prints it ("lag", "long transaction", …)
  bool ok = false;
};

// One look at the pair.
struct PairSample {
  bool green_serves = false;
  bool switching = false;
  std::optional<std::int64_t> lag_bytes;  // none: not measured (NaN in the scrape)
  std::optional<double> lag_seconds;
  int tables_total = 0;
  int tables_ready = 0;
  std::vector<PairGuardrail> guardrails;
};

class PairMetrics {
 public:
  PairMetrics();

  Status Serve(const std::string& address) { return endpoint_.Serve(address); }
  int port() const { return endpoint_.port(); }
  std::string Render() const { return endpoint_.Render(); }

  // Replaces every value with the sample's. Call from one thread.
  void Set(const PairSample& sample);

 private:
  MetricsEndpoint endpoint_;
  prometheus::Family<prometheus::Gauge>* serving_;
  prometheus::Gauge* switching_;
  prometheus::Gauge* lag_bytes_;
  prometheus::Gauge* lag_seconds_;
  prometheus::Gauge* tables_total_;
  prometheus::Gauge* tables_ready_;
  prometheus::Family<prometheus::Gauge>* guardrail_ok_;
};

// A guardrail's label value: its name in snake case ("long transaction" -> "long_transaction").
std::string GuardrailLabel(const std::string& name);

}  // namespace zerodown::monitor
