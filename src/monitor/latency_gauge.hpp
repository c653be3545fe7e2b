// The latency the health checks judge, measured on the health monitor's connection: what the
// application's own statements cost (pg_stat_statements, when installed and it knows statements
// from before the migration), or else a probe query zerodown times itself. The window and its
// arithmetic are LatencyWindow's; judging is health_policy's.
#pragma once

#include <chrono>
#include <optional>
#include <string>

#include "zerodown/monitor/latency_window.hpp"
#include "zerodown/monitor/signals.hpp"
#include "zerodown/pg/connection.hpp"

namespace zerodown::monitor {

class LatencyGauge {
 public:
  using Clock = std::chrono::steady_clock;

  // Chooses the source and takes the baseline: pg_stat_statements' counters as they stand (each
  // statement's mean over its whole history so far), or the probe's median over runs spread
  // across about half a second (one run is noise). `conn` is not owned and must outlive the
  // gauge; `window` caps how much of a running statement one sample counts. Throws the query's
  // Error when the probe fails.
  LatencyGauge(pg::Connection& conn, const std::string& probe_query,
               std::chrono::milliseconds window);

  LatencySource source() const {
    return view_ ? LatencySource::kStatements : LatencySource::kProbe;
  }
  // The probe's baseline; 0 when the application's statements are judged.
  std::chrono::microseconds probe_baseline() const { return probe_.baseline(); }

  // Measures once at `at`. Throws the query's Error (the caller skips the sample).
  void Sample(Clock::time_point at);
  // The latency over the samples taken after `since`; nullopt before there is one.
  std::optional<LatencySample> Since(Clock::time_point since) { return window_->Since(since); }

 private:
  pg::Connection& conn_;
  LatencyProbe probe_;
  std::chrono::milliseconds cap_;
  std::optional<std::string> view_;
  StatementSnapshot baseline_;
  StatementSnapshot last_;
  std::optional<LatencyWindow> window_;
};

}  // namespace zerodown::monitor
