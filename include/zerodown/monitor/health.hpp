// Health checks while a migration runs, and the automatic rollback policy. The checks compare
// the database now with the database before the migration: error rate (deltas of
// pg_stat_database.xact_rollback against commits), latency (the application's statements from
// pg_stat_statements, or a probe query) against its baseline, replication lag, and consistency
// failures reported by the verify step. A check is ok, alerting (default: error rate 1%,
// latency 1.5x and +20 ms) or asking for a rollback (default: error rate > 5%, latency > 2x and
// +20 ms for 5 verdicts in a row, any consistency failure). This module judges and tells; it never
// rolls anything back itself: the engine or the CLI asks ShouldRollBack and acts.
#pragma once

#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <deque>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

#include "zerodown/monitor/alert_hook.hpp"
#include "zerodown/monitor/health_policy.hpp"

namespace zerodown::monitor {

struct HealthOptions {
  HealthThresholds thresholds;
  // Off: checks run and alert, but ShouldRollBack never says yes.
  bool auto_rollback = false;
  // Rollback-level verdicts in a row that trip the policy; one bad second is not a trend. A
  // latency check needs latency_sustain of them: latency is the noisier signal.
  int sustain = 2;
  int latency_sustain = 5;
  std::chrono::milliseconds interval{1000};
  // Error rate and latency are judged over this much history.
  std::chrono::milliseconds window{3000};
  std::string probe_query = "SELECT 1";
  std::string on_alert;  // shell command run on every worsening; "" = none
};

// Told about every verdict; must be cheap and must not throw.
class HealthObserver {
 public:
  virtual ~HealthObserver() = default;
  virtual void OnHealth(const HealthVerdict& verdict) = 0;
  // The state got worse than the previous verdict's (ok → alert, alert → rollback).
  virtual void OnAlert(const HealthVerdict& /*verdict*/) {}
};

// Samples a live database once per interval on a background thread and its own connection.
class HealthMonitor {
 public:
  // Connects (application_name "zerodown-monitor") and takes the latency baseline, so build it
  // before the migration loads the server. Throws kConnection if it cannot connect.
  HealthMonitor(const std::string& conninfo, HealthOptions options);
  HealthMonitor(const HealthMonitor&) = delete;
  HealthMonitor& operator=(const HealthMonitor&) = delete;
  ~HealthMonitor();  // stops the thread

  // Not owned; add before Start().
  void AddObserver(HealthObserver* observer) { observers_.push_back(observer); }
  // Starts / stops the background thread. Stop is idempotent.
  void Start();
  void Stop();
  // One sample and verdict now, on the calling thread (what the thread does every interval).
  HealthVerdict SampleOnce();

  // Thread-safe.
  HealthVerdict Latest() const;
  // True once the policy tripped (and auto_rollback is on); `why` gets the reason.
  bool ShouldRollBack(std::string* why) const;
  // A consistency check (old vs new) failed: trips the policy at once.
  void ReportConsistencyFailure(const std::string& what);
  // The probe's baseline; 0 when the latency judged is the application's statements'.
  std::chrono::microseconds baseline() const;
  // What the latency check measures: the application's statements when pg_stat_statements is
  // installed, loaded and knows statements from before the migration, else the probe.
  LatencySource latency_source() const;

 private:
  struct Snapshot {
    std::chrono::steady_clock::time_point at;
    std::int64_t commits = 0;
    std::int64_t rollbacks = 0;
  };
  void Loop();

  std::string conninfo_;
  HealthOptions options_;
  struct Impl;
  std::unique_ptr<Impl> impl_;  // the connection and probe; touched by one thread at a time
  std::vector<HealthObserver*> observers_;
  AlertHook hook_;
  std::deque<Snapshot> history_;

  mutable std::mutex mutex_;
  HealthVerdict latest_;
  AutoRollbackPolicy policy_;
  std::mutex wake_mutex_;
  std::condition_variable wake_;
  bool stopping_ = false;
  std::thread thread_;
};

}  // namespace zerodown::monitor
