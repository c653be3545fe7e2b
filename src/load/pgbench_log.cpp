#include "zerodown/load/pgbench_log.hpp"

#include <algorithm>
#include <charconv>
#include <cmath>
#include <fstream>
#include <sstream>

namespace zerodown::load {
namespace {

// pgbench's words for a failed transaction in the `time` field, as SQLSTATEs where there is one.
std::optional<std::string> FailureState(std::string_view word) {
  if (word == "serialization") return "40001";
  if (word == "deadlock") return "40P01";
  if (word == "failed") return "pgbench-failed";
  return std::nullopt;
}

template <typename T>
bool ParseNumber(std::string_view text, T& out) {
  auto [end, error] = std::from_chars(text.data(), text.data() + text.size(), out);
  return error == std::errc() && end == text.data() + text.size();
}

}  // namespace

std::optional<PgbenchTransaction> ParsePgbenchLogLine(std::string_view line) {
  std::vector<std::string_view> fields;
  std::size_t at = 0;
  while (at < line.size()) {
    std::size_t next = line.find(' ', at);
    if (next == std::string_view::npos) next = line.size();
    if (next > at) fields.push_back(line.substr(at, next - at));
    at = next + 1;
  }
  if (fields.size() < 6) return std::nullopt;
  std::int64_t seconds = 0, micros = 0;
  if (!ParseNumber(fields[4], seconds) || !ParseNumber(fields[5], micros)) return std::nullopt;
  PgbenchTransaction transaction;
  transaction.end_epoch_s = static_cast<double>(seconds) + static_cast<double>(micros) / 1e6;
  if (fields.size() > 6 && !ParseNumber(fields[6], transaction.schedule_lag_us))
    return std::nullopt;
  if (!ParseNumber(fields[2], transaction.latency_us)) {
    std::optional<std::string> state = FailureState(fields[2]);
    if (!state) return std::nullopt;  // "skipped", or a line cut short
    transaction.sqlstate = *state;
  }
  return transaction;
}

PgbenchTally::PgbenchTally(double origin_epoch_s, std::vector<PhaseMark> marks, double end_s)
    : origin_(origin_epoch_s),
      marks_(std::move(marks)),
      end_s_(end_s),
      segments_(marks_.size() + 1),
      seconds_(static_cast<std::size_t>(std::max(0.0, std::ceil(end_s))) + 1) {}

void PgbenchTally::Add(const PgbenchTransaction& transaction) {
  double end = transaction.end_epoch_s - origin_;
  double began =
      end - static_cast<double>(transaction.latency_us) / 1e6 +
      static_cast<double>(std::min(transaction.schedule_lag_us, transaction.latency_us)) / 1e6;
  if (began >= end_s_) return;  // after the run's end (pgbench stops a moment later)
  auto after = std::upper_bound(marks_.begin(), marks_.end(), began,
                                [](double at, const PhaseMark& mark) { return at < mark.at_s; });
  segments_[static_cast<std::size_t>(after - marks_.begin())].Record(transaction.latency_us,
                                                                     transaction.sqlstate);
  auto second = static_cast<std::size_t>(std::clamp(end, 0.0, end_s_));
  seconds_[std::min(second, seconds_.size() - 1)].Record(transaction.latency_us,
                                                         transaction.sqlstate);
  SlowTransaction slow{began, static_cast<double>(transaction.latency_us) / 1000.0, "", 0,
                       transaction.sqlstate};
  auto fastest = std::min_element(
      slowest_.begin(), slowest_.end(),
      [](const SlowTransaction& a, const SlowTransaction& b) { return a.ms < b.ms; });
  if (slowest_.size() < kSlowestKept)
    slowest_.push_back(std::move(slow));
  else if (fastest->ms < slow.ms)
    *fastest = std::move(slow);
}

void PgbenchTally::AddAborted(double at_s) { Add({origin_ + at_s, 0, 0, "pgbench-aborted"}); }

Result<LoadReport> PgbenchTally::Report(const WindowChoice& choice) const {
  std::vector<Segment> segments;
  double begin = 0;
  for (std::size_t i = 0; i < segments_.size(); ++i) {
    double end = i < marks_.size() ? marks_[i].at_s : end_s_;
    segments.push_back({begin, end, segments_[i]});
    begin = end;
  }
  std::vector<SecondStats> timeline;
  for (std::size_t i = 0; i < seconds_.size(); ++i) {
    if (static_cast<double>(i) >= end_s_ && seconds_[i].latency.count() == 0) break;
    timeline.push_back(SummarizeSecond(static_cast<int>(i), seconds_[i]));
    timeline.back().length_s = std::clamp(end_s_ - static_cast<double>(i), 0.001, 1.0);
  }
  auto report = BuildReport(segments, marks_, std::move(timeline), choice);
  if (!report.ok()) return report;
  LoadReport out = std::move(report).value();
  out.slowest = slowest_;
  std::sort(out.slowest.begin(), out.slowest.end(),
            [](const SlowTransaction& a, const SlowTransaction& b) { return a.ms > b.ms; });
  return out;
}

Status ReadPgbenchLogs(const std::vector<std::string>& paths, PgbenchTally& tally) {
  for (const auto& path : paths) {
    std::ifstream in(path);
    if (!in) return Error(ErrorKind::kUsage, "cannot read the pgbench log " + path);
    std::string line;
    while (std::getline(in, line)) {
      if (auto transaction = ParsePgbenchLogLine(line)) tally.Add(*transaction);
    }
  }
  return Status::Ok();
}

}  // namespace zerodown::load
