#include "zerodown/monitor/throttle_policy.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <array>
#include <cmath>

namespace zerodown::monitor {

namespace {
// The share of its connections an application keeps inside a transaction, on average, from
// which it counts as keeping every one busy (KeepsEveryConnectionBusy).
constexpr double kBusyShare = 0.75;
}  // namespace

std::optional<std::int64_t> ThrottleSignals::MaxLagBytes() const {
  std::optional<std::int64_t> max;
  for (const auto& s : standbys) {
    if (s.bytes && (!max || *s.bytes > *max)) max = s.bytes;
  }
  return max;
}

std::optional<double> ThrottleSignals::MaxLagSeconds() const {
  std::optional<double> max;
  for (const auto& s : standbys) {
    if (s.seconds && (!max || *s.seconds > *max)) max = s.seconds;
  }
  return max;
}

std::string FormatBytes(std::int64_t bytes) {
  static constexpr std::array<const char*, 5> kUnits = {"B", "kB", "MB", "GB", "TB"};
  double value = static_cast<double>(bytes);
  std::size_t unit = 0;
  while (std::abs(value) >= 1024 && unit + 1 < kUnits.size()) {
    value /= 1024;
    ++unit;
  }
  if (unit == 0) return fmt::format("{} B", bytes);
  return fmt::format("{:.{}f} {}", value, value < 10 ? 1 : 0, kUnits[unit]);
}

double HeadroomLine(double base, const ThrottleLimits& limits) {
  return base + std::max(limits.headroom_slack, limits.headroom_ratio * base);
}

bool KeepsEveryConnectionBusy(const ApplicationLevel& level) {
  return level.connections > 0 && level.in_transaction >= kBusyShare * level.connections;
}

bool LeavesHeadroom(const ApplicationLevel& level, const ThrottleLimits& limits) {
  return limits.headroom_slack > 0 && level.connections > 0 && !KeepsEveryConnectionBusy(level) &&
         HeadroomLine(level.active, limits) < level.connections;
}

ThrottleDecision Decide(const ThrottleSignals& signals, const ThrottleLimits& limits) {
  std::vector<std::string> reasons;
  // Operator commands come first in the text: they explain a pause nothing else would.
  if (signals.paused_by_control) reasons.push_back("paused by `zerodown pause`");
  if (signals.pause_file_present) {
    reasons.push_back(fmt::format("pause file {} exists", signals.pause_file));
  }
  for (const auto& standby : signals.standbys) {
    if (limits.max_lag_bytes > 0 && standby.bytes && *standby.bytes > limits.max_lag_bytes) {
      reasons.push_back(fmt::format("replication lag {} on {} > {}", FormatBytes(*standby.bytes),
                                    standby.name, FormatBytes(limits.max_lag_bytes)));
    } else if (limits.max_lag_seconds > 0 && standby.seconds &&
               *standby.seconds > limits.max_lag_seconds) {
      reasons.push_back(fmt::format("replication lag {:.1f} s on {} > {:g} s", *standby.seconds,
                                    standby.name, limits.max_lag_seconds));
    }
  }
  if (limits.max_lock_waiters > 0 && signals.lock_waiters &&
      *signals.lock_waiters > limits.max_lock_waiters) {
    reasons.push_back(fmt::format("{} sessions wait on locks of the migration > {}",
                                  *signals.lock_waiters, limits.max_lock_waiters));
  }
  if (limits.max_probe_latency_ratio > 0 && signals.probe_latency && signals.probe_baseline) {
    auto base = std::max(*signals.probe_baseline, limits.min_probe_baseline);
    double ratio = static_cast<double>(signals.probe_latency->count()) /
                   static_cast<double>(std::max<std::int64_t>(base.count(), 1));
    if (ratio > limits.max_probe_latency_ratio) {
      reasons.push_back(
          fmt::format("probe latency {:.1f} ms is {:.1f}x its baseline {:.1f} ms > {:g}x",
                      signals.probe_latency->count() / 1000.0, ratio, base.count() / 1000.0,
                      limits.max_probe_latency_ratio));
    }
  }
  if (limits.max_active > 0 && signals.active_connections &&
      *signals.active_connections > limits.max_active) {
    reasons.push_back(
        fmt::format("{} active connections > {}", *signals.active_connections, limits.max_active));
  }
  bool headroom = false;
  if (limits.headroom_slack > 0 && signals.app_active && signals.app_active_baseline) {
    double base = *signals.app_active_baseline;
    double line = HeadroomLine(base, limits);
    if (*signals.app_active > line) {
      headroom = true;
      reasons.push_back(fmt::format(
          "the application has {:.1f} sessions active, {:.1f} before the migration: waiting for "
          "headroom (above {:.1f})",
          *signals.app_active, base, line));
    }
  }
  ThrottleDecision decision;
  decision.wait = !reasons.empty();
  decision.headroom_only = headroom && reasons.size() == 1;
  for (std::size_t i = 0; i < reasons.size(); ++i) {
    if (i > 0) decision.reason += "; ";
    decision.reason += reasons[i];
  }
  return decision;
}

}  // namespace zerodown::monitor
