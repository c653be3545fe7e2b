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

// Over `ratio` times the baseline and over it by `margin`: both, or it is not degraded.
bool Degraded(const LatencySample& l, double ratio, std::chrono::microseconds margin) {
  if (ratio <= 0) return false;
  return static_cast<double>(l.current.count()) > ratio * static_cast<double>(l.baseline.count()) &&
         l.current - l.baseline > margin;
}

std::optional<CheckResult> JudgeLatency(const LatencySample& l, const HealthThresholds& t) {
  bool statements = l.source == LatencySource::kStatements;
  if (statements && l.statements < t.min_statements) return std::nullopt;
  CheckResult c;
  c.check = statements ? kStatementLatencyCheck : kProbeLatencyCheck;
  c.value = static_cast<double>(l.current.count()) /
            static_cast<double>(std::max<std::int64_t>(l.baseline.count(), 1));
  if (Degraded(l, t.rollback_latency_ratio, t.latency_margin)) {
    c.state = HealthState::kRollback;
  } else if (Degraded(l, t.alert_latency_ratio, t.latency_margin)) {
    c.state = HealthState::kAlert;
  }
  if (c.state == HealthState::kOk) return c;
  double ratio = LimitFor(c.state, t.alert_latency_ratio, t.rollback_latency_ratio);
  std::string what = statements
                         ? fmt::format(
                               "application statements take {:.1f} ms on average "
                               "({} statements)",
                               l.current.count() / 1000.0, l.statements)
                         : fmt::format("probe latency {:.1f} ms", l.current.count() / 1000.0);
  c.message =
      fmt::format("{}, {:.1f}x the {:.1f} ms before the migration > {:g}x and > +{:g} ms", what,
                  c.value, l.baseline.count() / 1000.0, ratio, t.latency_margin.count() / 1000.0);
  return c;
}

}  // namespace

std::int64_t ApplicationCount::Observe(std::int64_t database, std::int64_t own) {
  std::int64_t value = database - own + offset_;
  if (last_database_ && database < *last_database_ && high_) {
    offset_ += *high_ - value;
    value = *high_;
  }
  last_database_ = database;
  high_ = high_ ? std::max(*high_, value) : value;
  return *high_;
}

HealthVerdict Judge(const HealthSample& sample, const HealthThresholds& t) {
  HealthVerdict verdict;
  std::int64_t total = sample.commits + sample.rollbacks;
  if (total > 0 && total >= t.min_transactions) {
    CheckResult c;
    c.check = kErrorRateCheck;
    c.value = static_cast<double>(sample.rollbacks) / static_cast<double>(total);
    c.state = Level(c.value, t.alert_error_rate, t.rollback_error_rate);
    if (c.state != HealthState::kOk) {
      c.message = fmt::format("error rate {:.1f}% ({} of {} transactions rolled back) > {:g}%",
                              c.value * 100, sample.rollbacks, total,
                              LimitFor(c.state, t.alert_error_rate, t.rollback_error_rate) * 100);
    }
    verdict.checks.push_back(std::move(c));
  }
  if (sample.latency) {
    if (auto c = JudgeLatency(*sample.latency, t)) verdict.checks.push_back(std::move(*c));
  }
  if (sample.lag_bytes) {
    CheckResult c;
    c.check = kLagCheck;
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
    c.check = kConsistencyCheck;
    c.value = 1;
    c.state = HealthState::kRollback;
    c.message = "consistency check failed: " + *sample.consistency_failure;
    verdict.checks.push_back(std::move(c));
  }
  for (const auto& c : verdict.checks) verdict.state = std::max(verdict.state, c.state);
  return verdict;
}

int AutoRollbackPolicy::Needed(std::string_view check) const {
  if (check == kConsistencyCheck) return 1;
  if (check == kStatementLatencyCheck || check == kProbeLatencyCheck) return latency_sustain_;
  return sustain_;
}

bool AutoRollbackPolicy::Observe(const HealthVerdict& verdict) {
  if (tripped_) return true;
  // A check missing from this verdict (too few transactions, a failed sample) ends its run too.
  std::map<std::string, int, std::less<>> runs;
  for (const auto& c : verdict.checks) {
    if (c.state != HealthState::kRollback) continue;
    auto previous = runs_.find(c.check);
    int run = (previous == runs_.end() ? 0 : previous->second) + 1;
    runs[c.check] = run;
    // Only the checks that tripped explain the decision; alerts beside them are noise.
    if (run >= Needed(c.check)) {
      tripped_ = true;
      if (!why_.empty()) why_ += "; ";
      why_ += c.message;
    }
  }
  runs_ = std::move(runs);
  return tripped_;
}

bool AutoRollbackPolicy::ShouldRollBack(std::string* why) const {
  if (tripped_ && why) *why = why_;
  return tripped_;
}

}  // namespace zerodown::monitor
