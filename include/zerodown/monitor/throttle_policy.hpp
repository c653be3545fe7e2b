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
  // The application's active sessions (ApplicationSessions::active): the mean of the last few
  // samples, and the mean before the migration's work began.
  std::optional<double> app_active;
  std::optional<double> app_active_baseline;
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
  // Headroom: the work waits while the application has more sessions active than before the
  // migration began by more than max(headroom_slack, headroom_ratio x that level): one more, or
  // twice as many. Its statements then queue behind ours. An application that waits for each
  // answer before it sends the next (a closed loop) has a few more active while we work too,
  // but not twice as many; one that kept every connection busy cannot cross the line at all,
  // and the work runs at full speed: a pause would only make it last longer. Off when
  // headroom_slack <= 0.
  double headroom_slack = 1;
  double headroom_ratio = 1;
};

// The application before the migration began: its mean active sessions, its connections, and
// its mean sessions inside a transaction (ApplicationSessions::in_transaction).
struct ApplicationLevel {
  double active = 0;
  int connections = 0;
  double in_transaction = 0;
};

// Whether the application kept every connection it has inside a transaction: its clients send
// each transaction as soon as the last one ends (a closed loop at full speed, a batch job, a
// pool with requests queued in front of it). Its active sessions alone can be few (between two
// statements a session waits for its client), but there is no idle time in it to give the work:
// what the work takes it loses however the work is paced, and a pause only makes the work, and
// the change log it replays, last longer.
bool KeepsEveryConnectionBusy(const ApplicationLevel& level);

// The application's active sessions above which the work waits for headroom: `base` (its level
// before the migration) plus max(headroom_slack, headroom_ratio x base).
double HeadroomLine(double base, const ThrottleLimits& limits);

// Whether the application leaves headroom for the work to keep to: it has connections, it does
// not keep every one busy, and the headroom line (see ThrottleLimits) is below their number, so
// its statements can be seen to queue. False with headroom off.
bool LeavesHeadroom(const ApplicationLevel& level, const ThrottleLimits& limits);

struct ThrottleDecision {
  bool wait = false;
  // Why it waits, one clause per signal over its limit joined by "; " ("" when it does not),
  // e.g. "replication lag 210 MB on standby1 > 128 MB".
  std::string reason;
  // Every reason is the headroom one: the throttler bounds such a wait (see Throttler).
  bool headroom_only = false;
};

// Whether the next chunk should wait. Pure.
ThrottleDecision Decide(const ThrottleSignals& signals, const ThrottleLimits& limits);

// "1.5 kB", "210 MB": bytes for humans in the reason text (powers of 1024).
std::string FormatBytes(std::int64_t bytes);

}  // namespace zerodown::monitor
