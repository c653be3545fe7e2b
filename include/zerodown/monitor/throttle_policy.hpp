// The throttle decision as a pure function: given what the database looks like right now (the
// signals) and how much the operator lets a migration cost it (the limits), should the next
// chunk wait, and why. It does no I/O and keeps no clock; throttler.hpp samples the signals and
// acts on the decision.
#pragma once

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace zerodown::monitor {

// One standby as pg_stat_replication shows it on the primary.
struct StandbyLag {
  std::string name;                   // application_name, else client address, else pid
  std::optional<std::int64_t> bytes;  // pg_wal_lsn_diff(pg_current_wal_lsn(), replay_lsn)
  std::optional<double> seconds;      // replay_lag; NULL when the standby is caught up
};

// What one sample saw. A field left empty was not measured (the signal is off or the query could
// not run) and never throttles.
struct ThrottleSignals {
  std::vector<StandbyLag> standbys;
  std::optional<int> lock_waiters;  // sessions waiting on a lock we hold or on the migrating table
  std::optional<std::chrono::microseconds> probe_latency;
  std::optional<std::chrono::microseconds> probe_baseline;
  std::optional<int> active_connections;  // pg_stat_activity state = 'active', ourselves excluded
  bool pause_file_present = false;
  std::string pause_file;          // the path, for the reason text
  bool paused_by_control = false;  // `zerodown pause` is in effect

  // The largest byte / time lag over every standby; empty when no standby reports one.
  std::optional<std::int64_t> MaxLagBytes() const;
  std::optional<double> MaxLagSeconds() const;
};

// How much a migration may cost. Zero (or a negative value) turns a limit off.
struct ThrottleLimits {
  std::int64_t max_lag_bytes = 128LL * 1024 * 1024;
  double max_lag_seconds = 10;
  int max_lock_waiters = 3;
  double max_probe_latency_ratio = 10;  // see docs/monitoring.md for why not 3
  // The probe ratio is taken against max(baseline, this): a `SELECT 1` answered in 80 µs
  // doubles on scheduler noise alone, which is no reason to stop a migration.
  std::chrono::microseconds min_probe_baseline{1000};
  int max_active = 0;
};

struct ThrottleDecision {
  bool wait = false;
  // Why it waits, one clause per signal over its limit joined by "; " ("" when it does not),
  // e.g. "replication lag 210 MB on standby1 > 128 MB".
  std::string reason;
};

// Whether the next chunk should wait. Pure.
ThrottleDecision Decide(const ThrottleSignals& signals, const ThrottleLimits& limits);

// "1.5 kB", "210 MB": bytes for humans in the reason text (powers of 1024).
std::string FormatBytes(std::int64_t bytes);

}  // namespace zerodown::monitor
