#include "zerodown/monitor/health_policy.hpp"

#include <fmt/format.h>

#include <algorithm>

#include "zerodown/monitor/throttle_policy.hpp"

namespace zerodown::monitor {

std::string_view HealthStateName(HealthState state) {
  switch (state) {
    case HealthState::kOk:
      return "ok";
    case HealthState::kAlert:
      return "alert";
    case HealthState::kRollback:
      return "rollback";
  }
  return "ok";
}

std::string HealthVerdict::Summary() const {
  std::string text;
  for (const auto& c : checks) {
    if (c.state == HealthState::kOk) continue;
    if (!text.empty()) text += "; ";
    text += c.message;
  }
  return text;
}

namespace {

// Which level `value` reaches; a level of zero or less is off.
HealthState Level(double value, double alert, double rollback) {
  if (rollback > 0 && value > rollback) return HealthState::kRollback;
  if (alert > 0 && value > alert) return HealthState::kAlert;
  return HealthState::kOk;
}

double LimitFor(HealthState state, double alert, double rollback) {
  return state == HealthState::kRollback ? rollback : alert;
}

}  // namespace

HealthVerdict Judge(const HealthSample& sample, const HealthThresholds& t) {
  HealthVerdict verdict;
  std::int64_t total = sample.commits + sample.rollbacks;
  if (total > 0 && total >= t.min_transactions) {
    CheckResult c;
    c.check = "error_rate";
    c.value = static_cast<double>(sample.rollbacks) / static_cast<double>(total);
    c.state = Level(c.value, t.alert_error_rate, t.rollback_error_rate);
    if (c.state != HealthState::kOk) {
      c.message = fmt::format("error rate {:.1f}% ({} of {} transactions rolled back) > {:g}%",
                              c.value * 100, sample.rollbacks, total,
                              LimitFor(c.state, t.alert_error_rate, t.rollback_error_rate) * 100);
    }
    verdict.checks.push_back(std::move(c));
  }
  if (sample.probe_latency && sample.probe_baseline) {
    CheckResult c;
    c.check = "probe_latency";
    auto base = std::max(*sample.probe_baseline, t.min_probe_baseline);
    c.value = static_cast<double>(sample.probe_latency->count()) /
              static_cast<double>(std::max<std::int64_t>(base.count(), 1));
    c.state = Level(c.value, t.alert_latency_ratio, t.rollback_latency_ratio);
    if (c.state != HealthState::kOk) {
      c.message =
          fmt::format("probe latency {:.1f} ms is {:.1f}x its baseline {:.1f} ms > {:g}x",
                      sample.probe_latency->count() / 1000.0, c.value, base.count() / 1000.0,
                      LimitFor(c.state, t.alert_latency_ratio, t.rollback_latency_ratio));
    }
    verdict.checks.push_back(std::move(c));
  }
  if (sample.lag_bytes) {
    CheckResult c;
    c.check = "replication_lag";
    c.value = static_cast<double>(*sample.lag_bytes);
    c.state = Level(c.value, static_cast<double>(t.alert_lag_bytes),
                    static_cast<double>(t.rollback_lag_bytes));
    if (c.state != HealthState::kOk) {
      auto limit = c.state == HealthState::kRollback ? t.rollback_lag_bytes : t.alert_lag_bytes;
      c.message = fmt::format("replication lag {} > {}", FormatBytes(*sample.lag_bytes),
                              FormatBytes(limit));
    }
    verdict.checks.push_back(std::move(c));
  }
  if (sample.consistency_failure) {
    CheckResult c;
    c.check = "consistency";
    c.value = 1;
    c.state = HealthState::kRollback;
    c.message = "consistency check failed: " + *sample.consistency_failure;
    verdict.checks.push_back(std::move(c));
  }
  for (const auto& c : verdict.checks) verdict.state = std::max(verdict.state, c.state);
  return verdict;
}

bool AutoRollbackPolicy::Observe(const HealthVerdict& verdict) {
  if (tripped_) return true;
  bool consistency = false;
  for (const auto& c : verdict.checks) {
    if (c.check == "consistency" && c.state == HealthState::kRollback) consistency = true;
  }
  run_ = verdict.state == HealthState::kRollback ? run_ + 1 : 0;
  if (consistency || run_ >= sustain_) {
    tripped_ = true;
    // Only the checks at rollback level explain the decision; alerts beside them are noise.
    for (const auto& c : verdict.checks) {
      if (c.state != HealthState::kRollback) continue;
      if (!why_.empty()) why_ += "; ";
      why_ += c.message;
    }
  }
  return tripped_;
}

bool AutoRollbackPolicy::ShouldRollBack(std::string* why) const {
  if (tripped_ && why) *why = why_;
  return tripped_;
}

}  // namespace zerodown::monitor
