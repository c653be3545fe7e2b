#include "cli/bluegreen_status.hpp"

#include <fmt/format.h>

#include <iostream>

namespace zerodown::cli {

nlohmann::json StatusJson(const bluegreen::StatusReport& r) {
  nlohmann::json guardrails = nlohmann::json::array();
  for (const auto& g : r.guardrails) {
    guardrails.push_back({{"name", g.name}, {"ok", g.ok}, {"detail", g.detail}});
  }
  return {
      {"serving", bluegreen::SideName(r.serving)},
      {"phase", r.phase},
      {"lag_bytes", r.lag_bytes ? nlohmann::json(*r.lag_bytes) : nlohmann::json()},
      {"lag_seconds", r.lag_seconds ? nlohmann::json(*r.lag_seconds) : nlohmann::json()},
      {"tables_total", r.tables_total},
      {"tables_ready", r.tables_ready},
      {"tables_copying", r.tables_copying},
      {"guardrails", guardrails},
      {"migration", r.migration ? nlohmann::json{{"name", r.migration->name},
                                                 {"phase", r.migration->phase},
                                                 {"version_schema", r.migration->version_schema}}
                                : nlohmann::json()}};
}

void PrintStatus(const bluegreen::StatusReport& r) {
  std::cout << fmt::format("serving: {} ({}), replicating to {}\n", bluegreen::SideName(r.serving),
                           r.phase, bluegreen::SideName(bluegreen::Other(r.serving)));
  std::cout << fmt::format(
      "lag: {} s, {} bytes\n",
      r.lag_seconds ? fmt::format("{:.3f}", *r.lag_seconds) : std::string("unknown"),
      r.lag_bytes ? std::to_string(*r.lag_bytes) : std::string("unknown"));
  std::cout << fmt::format("initial copy: {} of {} tables ready\n", r.tables_ready, r.tables_total);
  if (r.migration) {
    std::cout << fmt::format("migration on green: {} ({}), new version in schema {}\n",
                             r.migration->name, r.migration->phase, r.migration->version_schema);
  }
  for (const auto& t : r.tables_copying) std::cout << "  " << t << "\n";
  std::cout << "guardrails of a switch:\n";
  for (const auto& g : r.guardrails) {
    std::cout << fmt::format("  [{}] {}: {}\n", g.ok ? "ok" : "no", g.name, g.detail);
  }
}

monitor::PairSample PairSampleOf(const bluegreen::StatusReport& r) {
  monitor::PairSample sample;
  sample.green_serves = r.serving == bluegreen::Side::kGreen;
  sample.switching = r.phase == "switching";
  sample.lag_bytes = r.lag_bytes;
  sample.lag_seconds = r.lag_seconds;
  sample.tables_total = r.tables_total;
  sample.tables_ready = r.tables_ready;
  for (const auto& g : r.guardrails) sample.guardrails.push_back({g.name, g.ok});
  return sample;
}

}  // namespace zerodown::cli
