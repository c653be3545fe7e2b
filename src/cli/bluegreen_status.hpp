// What `zerodown bluegreen status` shows of a pair: as text, as one JSON object a line (--json),
// and as the pair's Prometheus gauges.
#pragma once

#include <nlohmann/json.hpp>

#include "zerodown/bluegreen/bluegreen.hpp"
#include "zerodown/monitor/pair_metrics.hpp"

namespace zerodown::cli {

nlohmann::json StatusJson(const bluegreen::StatusReport& report);
// Serving side and phase, lag, the initial copy, green's migration and each switch guardrail.
void PrintStatus(const bluegreen::StatusReport& report);
monitor::PairSample PairSampleOf(const bluegreen::StatusReport& report);

}  // namespace zerodown::cli
