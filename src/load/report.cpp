// Building a load report: tallies, seconds, the before / during / after windows between phase
// marks, and the report as JSON. Rendering it for a terminal is in report_render.cpp.
#include "zerodown/load/report.hpp"

#include <fmt/format.h>

#include <algorithm>

namespace zerodown::load {

void Tally::Record(std::uint64_t micros, const std::string& sqlstate) {
  latency.Record(micros);
  if (micros > kSlowMicros) ++slow;
  if (sqlstate.empty()) {
    ++transactions;
  } else {
    ++failed;
    ++errors[sqlstate];
  }
}

void Tally::Merge(const Tally& other) {
  latency.Merge(other.latency);
  transactions += other.transactions;
  failed += other.failed;
  slow += other.slow;
  for (const auto& [state, count] : other.errors) errors[state] += count;
}

SecondStats SummarizeSecond(int index, const Tally& tally) {
  auto ms = [&](double percent) { return tally.latency.Percentile(percent) / 1000.0; };
  SecondStats second;
  second.index = index;
  second.transactions = tally.transactions;
  second.failed = tally.failed;
  second.slow = tally.slow;
  second.errors = tally.errors;
  second.p50_ms = ms(50);
  second.p95_ms = ms(95);
  second.p99_ms = ms(99);
  second.max_ms = tally.latency.max() / 1000.0;
  return second;
}

WindowStats MakeWindow(std::string name, double begin_s, double end_s, const Tally& tally) {
  WindowStats window;
  window.name = std::move(name);
  window.begin_s = begin_s;
  window.end_s = std::max(begin_s, end_s);
  window.transactions = tally.transactions;
  window.failed = tally.failed;
  window.slow = tally.slow;
  window.errors = tally.errors;
  double seconds = window.duration_s();
  window.tps = seconds > 0 ? static_cast<double>(tally.transactions) / seconds : 0;
  window.p50_ms = tally.latency.Percentile(50) / 1000.0;
  window.p95_ms = tally.latency.Percentile(95) / 1000.0;
  window.p99_ms = tally.latency.Percentile(99) / 1000.0;
  window.max_ms = tally.latency.max() / 1000.0;
  return window;
}

namespace {

// Index of the first (or last) mark called `name`; -1 when there is none.
int FindMark(const std::vector<PhaseMark>& marks, const std::string& name, bool last) {
  int found = -1;
  for (int i = 0; i < static_cast<int>(marks.size()); ++i) {
    if (marks[i].name != name) continue;
    found = i;
    if (!last) break;
  }
  return found;
}

// Merges segments [first, last] (inclusive, clamped) into one window.
WindowStats Span(std::string name, const std::vector<Segment>& segments, int first, int last,
                 double fallback_s) {
  Tally tally;
  double begin = fallback_s, end = fallback_s;
  first = std::max(first, 0);
  last = std::min(last, static_cast<int>(segments.size()) - 1);
  if (first <= last) {
    begin = segments[first].begin_s;
    end = segments[last].end_s;
    for (int i = first; i <= last; ++i) tally.Merge(segments[i].tally);
  }
  return MakeWindow(std::move(name), begin, end, tally);
}

}  // namespace

double LostAgainst(double tps, const WindowStats& change) {
  return tps * change.duration_s() - static_cast<double>(change.transactions);
}

Result<LoadReport> BuildReport(const std::vector<Segment>& segments,
                               const std::vector<PhaseMark>& marks,
                               std::vector<SecondStats> timeline, const WindowChoice& choice) {
  if (segments.size() != marks.size() + 1)
    return Error(ErrorKind::kInternal,
                 fmt::format("{} segments for {} phase marks", segments.size(), marks.size()));
  LoadReport report;
  report.phases = marks;
  report.timeline = std::move(timeline);
  int count = static_cast<int>(segments.size());
  double end_s = segments.back().end_s;
  report.total = Span("total", segments, 0, count - 1, 0);
  if (marks.empty()) {
    report.before = Span("before", segments, 0, count - 1, 0);
    report.during = MakeWindow("during", end_s, end_s, {});
    report.after = MakeWindow("after", end_s, end_s, {});
    return report;
  }

  // Segment i runs from mark i-1 to mark i; mark m therefore ends segment m.
  int from = choice.from.empty() ? 0 : FindMark(marks, choice.from, false);
  int to =
      choice.to.empty() ? static_cast<int>(marks.size()) - 1 : FindMark(marks, choice.to, true);
  if (from < 0 || to < 0)
    return Error(ErrorKind::kUsage,
                 "no phase mark named `" + (from < 0 ? choice.from : choice.to) + "`",
                 "Name a phase the run marked (see the report's phase list).");
  if (to < from)
    return Error(ErrorKind::kUsage, "phase `" + choice.to + "` comes before `" + choice.from + "`");
  // With one mark and no explicit end the change runs until the end of the load.
  int last_during = (marks.size() == 1 && choice.to.empty()) ? count - 1 : to;
  report.has_change = true;
  report.before = Span("before", segments, 0, from, 0);
  report.during = Span("during", segments, from + 1, last_during, marks[from].at_s);
  report.after = Span("after", segments, last_during + 1, count - 1, end_s);
  if (report.before.tps > 0) {
    report.during_tps_percent = 100.0 * report.during.tps / report.before.tps;
    report.lost_transactions = LostAgainst(report.before.tps, report.during);
  }
  return report;
}

namespace {

nlohmann::json WindowJson(const WindowStats& w) {
  return {{"begin_s", w.begin_s},      {"end_s", w.end_s},
          {"seconds", w.duration_s()}, {"transactions", w.transactions},
          {"failed", w.failed},        {"slow", w.slow},
          {"errors", w.errors},        {"tps", w.tps},
          {"p50_ms", w.p50_ms},        {"p95_ms", w.p95_ms},
          {"p99_ms", w.p99_ms},        {"max_ms", w.max_ms}};
}

WindowStats WindowFromJson(const std::string& name, const nlohmann::json& j) {
  WindowStats w;
  w.name = name;
  w.begin_s = j.at("begin_s").get<double>();
  w.end_s = j.at("end_s").get<double>();
  w.transactions = j.at("transactions").get<std::uint64_t>();
  w.failed = j.at("failed").get<std::uint64_t>();
  w.slow = j.at("slow").get<std::uint64_t>();
  w.errors = j.at("errors").get<std::map<std::string, std::uint64_t>>();
  w.tps = j.at("tps").get<double>();
  w.p50_ms = j.at("p50_ms").get<double>();
  w.p95_ms = j.at("p95_ms").get<double>();
  w.p99_ms = j.at("p99_ms").get<double>();
  w.max_ms = j.at("max_ms").get<double>();
  return w;
}

}  // namespace

nlohmann::json ToJson(const LoadReport& report) {
  nlohmann::json phases = nlohmann::json::array();
  for (const auto& mark : report.phases)
    phases.push_back({{"name", mark.name}, {"at_s", mark.at_s}});
  nlohmann::json timeline = nlohmann::json::array();
  for (const auto& s : report.timeline)
    timeline.push_back({{"second", s.index},
                        {"length_s", s.length_s},
                        {"transactions", s.transactions},
                        {"failed", s.failed},
                        {"slow", s.slow},
                        {"errors", s.errors},
                        {"p50_ms", s.p50_ms},
                        {"p95_ms", s.p95_ms},
                        {"p99_ms", s.p99_ms},
                        {"max_ms", s.max_ms}});
  nlohmann::json slowest = nlohmann::json::array();
  for (const auto& t : report.slowest)
    slowest.push_back({{"began_s", t.began_s},
                       {"ms", t.ms},
                       {"statement", t.statement},
                       {"statement_ms", t.statement_ms},
                       {"sqlstate", t.sqlstate}});
  return {
      {"label", report.label},
      {"note", report.note},
      {"workload", report.workload},
      {"clients", report.clients},
      {"has_change", report.has_change},
      {"baseline", report.baseline},
      {"change_seconds", report.has_change ? report.during.duration_s() : 0.0},
      {"during_tps_percent", report.during_tps_percent},
      {"lost_transactions", report.lost_transactions},
      {"cutover_lock_ms",
       report.cutover_lock_ms ? nlohmann::json(*report.cutover_lock_ms) : nlohmann::json(nullptr)},
      {"command_max_rss_kb", report.command_max_rss_kb ? nlohmann::json(*report.command_max_rss_kb)
                                                       : nlohmann::json(nullptr)},
      {"windows",
       {{"before", WindowJson(report.before)},
        {"during", WindowJson(report.during)},
        {"after", WindowJson(report.after)},
        {"total", WindowJson(report.total)}}},
      {"phases", phases},
      {"slowest", slowest},
      {"timeline", timeline}};
}

Result<LoadReport> ReportFromJson(const nlohmann::json& json) {
  try {
    LoadReport report;
    report.label = json.value("label", "");
    report.note = json.value("note", "");
    report.workload = json.value("workload", "");
    report.clients = json.value("clients", 0);
    report.has_change = json.value("has_change", false);
    report.baseline = json.value("baseline", false);
    report.during_tps_percent = json.value("during_tps_percent", 0.0);
    report.lost_transactions = json.value("lost_transactions", 0.0);
    // Absent (reports saved before these fields existed) or null: unknown.
    if (json.contains("cutover_lock_ms") && !json.at("cutover_lock_ms").is_null())
      report.cutover_lock_ms = json.at("cutover_lock_ms").get<double>();
    if (json.contains("command_max_rss_kb") && !json.at("command_max_rss_kb").is_null())
      report.command_max_rss_kb = json.at("command_max_rss_kb").get<std::int64_t>();
    if (json.contains("windows")) {
      const auto& windows = json.at("windows");
      report.before = WindowFromJson("before", windows.at("before"));
      report.during = WindowFromJson("during", windows.at("during"));
      report.after = WindowFromJson("after", windows.at("after"));
      report.total = WindowFromJson("total", windows.at("total"));
    }
    for (const auto& mark : json.value("phases", nlohmann::json::array()))
      report.phases.push_back({mark.at("name").get<std::string>(), mark.at("at_s").get<double>()});
    for (const auto& t : json.value("slowest", nlohmann::json::array())) {
      report.slowest.push_back({t.at("began_s").get<double>(), t.at("ms").get<double>(),
                                t.at("statement").get<std::string>(),
                                t.at("statement_ms").get<double>(),
                                t.value("sqlstate", std::string())});
    }
    for (const auto& s : json.value("timeline", nlohmann::json::array())) {
      SecondStats second;
      second.index = s.at("second").get<int>();
      second.length_s = s.value("length_s", 1.0);
      second.transactions = s.at("transactions").get<std::uint64_t>();
      second.failed = s.at("failed").get<std::uint64_t>();
      second.slow = s.at("slow").get<std::uint64_t>();
      second.errors = s.at("errors").get<std::map<std::string, std::uint64_t>>();
      second.p50_ms = s.at("p50_ms").get<double>();
      second.p95_ms = s.at("p95_ms").get<double>();
      second.p99_ms = s.at("p99_ms").get<double>();
      second.max_ms = s.at("max_ms").get<double>();
      report.timeline.push_back(std::move(second));
    }
    return report;
  } catch (const nlohmann::json::exception& e) {
    return Error(ErrorKind::kUsage, std::string("not a zerodown bench report: ") + e.what(),
                 "Pass files written by `zerodown bench --json`.");
  }
}

}  // namespace zerodown::load
