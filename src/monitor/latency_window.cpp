#include "zerodown/monitor/latency_window.hpp"

#include <algorithm>
#include <vector>

namespace zerodown::monitor {

namespace {

double Mean(const StatementTotals& t) {
  return t.calls > 0 ? t.total_ms / static_cast<double>(t.calls) : 0;
}

}  // namespace

std::chrono::microseconds Median(std::vector<std::chrono::microseconds> values) {
  if (values.empty()) return std::chrono::microseconds(0);
  auto middle = values.begin() + static_cast<std::ptrdiff_t>(values.size() / 2);
  std::nth_element(values.begin(), middle, values.end());
  return *middle;
}

StatementCost& StatementCost::operator+=(const StatementCost& other) {
  statements += other.statements;
  actual_ms += other.actual_ms;
  expected_ms += other.expected_ms;
  return *this;
}

StatementCost CostBetween(const StatementSnapshot& baseline, const StatementSnapshot& before,
                          const StatementSnapshot& now,
                          const std::vector<RunningStatement>& running,
                          std::chrono::microseconds cap) {
  StatementCost cost;
  for (const auto& [key, totals] : now) {
    auto known = baseline.find(key);
    if (known == baseline.end() || known->second.calls <= 0) continue;
    auto previous = before.find(key);
    StatementTotals from = previous == before.end() ? StatementTotals{} : previous->second;
    std::int64_t calls = totals.calls - from.calls;
    double ms = totals.total_ms - from.total_ms;
    if (calls <= 0 || ms < 0) continue;
    cost.statements += calls;
    cost.actual_ms += ms;
    cost.expected_ms += static_cast<double>(calls) * Mean(known->second);
  }
  double cap_ms = static_cast<double>(cap.count()) / 1000.0;
  for (const auto& r : running) {
    auto known = baseline.find(r.key);
    if (known == baseline.end() || known->second.calls <= 0) continue;
    cost.statements += 1;
    cost.actual_ms += std::min(static_cast<double>(r.elapsed.count()) / 1000.0, cap_ms);
    cost.expected_ms += std::min(Mean(known->second), cap_ms);
  }
  return cost;
}

LatencySample ToLatencySample(const StatementCost& cost) {
  LatencySample sample;
  sample.source = LatencySource::kStatements;
  sample.statements = cost.statements;
  if (cost.statements > 0) {
    auto per = [&](double ms) {
      return std::chrono::microseconds(
          static_cast<std::int64_t>(ms * 1000.0 / static_cast<double>(cost.statements)));
    };
    sample.current = per(cost.actual_ms);
    sample.baseline = per(cost.expected_ms);
  }
  return sample;
}

void LatencyWindow::AddStatements(Clock::time_point at, const StatementCost& cost) {
  points_.push_back({at, cost, {}});
}

void LatencyWindow::AddProbe(Clock::time_point at, std::chrono::microseconds latency) {
  points_.push_back({at, {}, latency});
}

std::optional<LatencySample> LatencyWindow::Since(Clock::time_point since) {
  while (!points_.empty() && points_.front().at <= since) points_.pop_front();
  if (points_.empty()) return std::nullopt;
  if (source_ == LatencySource::kStatements) {
    StatementCost cost;
    for (const auto& p : points_) cost += p.cost;
    return ToLatencySample(cost);
  }
  std::vector<std::chrono::microseconds> probes;
  for (const auto& p : points_) probes.push_back(p.probe);
  LatencySample sample;
  sample.source = LatencySource::kProbe;
  // The median, not the mean: one probe stuck behind a checkpoint is not the window.
  sample.current = Median(std::move(probes));
  sample.baseline = probe_baseline_;
  sample.statements = static_cast<std::int64_t>(points_.size());
  return sample;
}

}  // namespace zerodown::monitor
