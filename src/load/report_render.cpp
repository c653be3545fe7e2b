// Rendering load reports for a terminal: one report's table, the comparison of several, the
// ratios against one of them, the slowest transactions and the peaks by phase.
#include <fmt/format.h>

#include <algorithm>

#include "zerodown/load/report.hpp"

namespace zerodown::load {

namespace {

// A report's label up to its first space: the "(e)" of "(e) zerodown shadow copy".
std::string ShortLabel(const LoadReport& report) {
  return report.label.substr(0, report.label.find(' '));
}

// The comparison's no-change run (bench --baseline) when it ran to its end: its window is the
// application alone, the reference for the other rows' rate and max.
const LoadReport* BaselineOf(const std::vector<LoadReport>& reports) {
  for (const auto& report : reports) {
    if (report.baseline && report.has_change && report.note.empty()) return &report;
  }
  return nullptr;
}

std::string ErrorList(const std::map<std::string, std::uint64_t>& errors) {
  std::string text;
  for (const auto& [state, count] : errors)
    text += fmt::format("{}{} x{}", text.empty() ? "" : ", ", state, count);
  return text;
}

}  // namespace

std::string RenderTable(const LoadReport& report) {
  std::string out;
  if (!report.label.empty()) out += report.label + "\n";
  out += fmt::format("{:<8} {:>8} {:>9} {:>8} {:>8} {:>8} {:>9} {:>8} {:>7}\n", "window", "seconds",
                     "TPS", "p50 ms", "p95 ms", "p99 ms", "max ms", ">100 ms", "failed");
  auto row = [&](const WindowStats& w) {
    out += fmt::format("{:<8} {:>8.1f} {:>9.1f} {:>8.2f} {:>8.2f} {:>8.2f} {:>9.1f} {:>8} {:>7}\n",
                       w.name, w.duration_s(), w.tps, w.p50_ms, w.p95_ms, w.p99_ms, w.max_ms,
                       w.slow, w.failed);
  };
  if (report.has_change) {
    row(report.before);
    row(report.during);
    if (report.after.duration_s() > 0) row(report.after);
  }
  row(report.total);
  if (report.has_change) {
    out += fmt::format(
        "change: {:.2f} s; TPS during {:.0f}% of before; transactions lost during the change: "
        "{:.0f}\n",
        report.during.duration_s(), report.during_tps_percent, report.lost_transactions);
    std::string phases;
    for (const auto& mark : report.phases)
      phases += fmt::format("{}{} @{:.1f}s", phases.empty() ? "" : ", ", mark.name, mark.at_s);
    out += "phases: " + phases + "\n";
  }
  if (report.cutover_lock_ms)
    out += fmt::format("cut-over: ACCESS EXCLUSIVE held {:.1f} ms\n", *report.cutover_lock_ms);
  if (report.command_max_rss_kb)
    out += fmt::format("command peak RSS: {:.1f} MB\n", *report.command_max_rss_kb / 1024.0);
  if (!report.total.errors.empty())
    out += "failed by SQLSTATE: " + ErrorList(report.total.errors) + "\n";
  out += RenderSlowest({report});
  return out;
}

std::string RenderComparison(const std::vector<LoadReport>& reports) {
  std::size_t width = 7;
  for (const auto& report : reports) width = std::max(width, report.label.size());
  std::optional<double> steady_tps;
  if (const LoadReport* baseline = BaselineOf(reports)) steady_tps = baseline->during.tps;
  std::string out = fmt::format(
      "{:<{}}  {:>9} {:>11} {:>8} {:>9} {:>8} {:>7} {:>9} {:>9} {:>8}{}\n", "variant", width,
      "change s", "TPS during", "p99 ms", "max ms", ">100 ms", "failed", "lost tx", "lock ms",
      "tool MB", steady_tps ? fmt::format(" {:>10}", "lost@base") : "");
  for (const auto& report : reports) {
    // A command that failed or was stopped still has the load's figures up to that moment.
    if (!report.note.empty() && !report.has_change) {
      out += fmt::format("{:<{}}  {}\n", report.label, width, report.note);
      continue;
    }
    const WindowStats& during = report.has_change ? report.during : report.total;
    std::string lock =
        report.cutover_lock_ms ? fmt::format("{:.1f}", *report.cutover_lock_ms) : "-";
    std::string rss = report.command_max_rss_kb
                          ? fmt::format("{:.0f}", *report.command_max_rss_kb / 1024.0)
                          : "-";
    std::string against_baseline;
    if (steady_tps && report.has_change) {
      against_baseline = fmt::format(" {:>10.0f}", LostAgainst(*steady_tps, during));
    }
    out += fmt::format(
        "{:<{}}  {:>9.2f} {:>10.0f}% {:>8.2f} {:>9.1f} {:>8} {:>7} {:>9.0f} {:>9} {:>8}{}\n",
        report.label, width, report.has_change ? during.duration_s() : 0.0,
        report.during_tps_percent, during.p99_ms, during.max_ms, during.slow, during.failed,
        report.lost_transactions, lock, rss, against_baseline);
    if (!report.note.empty()) out += fmt::format("{:<{}}    ^ {}\n", "", width, report.note);
  }
  out +=
      "TPS during = TPS while the change ran, as % of the same run's TPS before it; p99, max,\n"
      ">100 ms and failed are for the change window; lost tx = TPS before x change duration -\n"
      "transactions done during the change; lock ms = ACCESS EXCLUSIVE held at the cut-over\n"
      "(- unknown); tool MB = the command's peak RSS (client side, not the server's; never\n"
      "below bench's own, ~12 MB, which Linux counts for the process it spawns).\n";
  if (steady_tps) {
    out += fmt::format(
        "lost@base = the baseline's TPS during ({:.0f}, the application alone) x change duration\n"
        "- transactions done during the change.\n",
        *steady_tps);
  }
  return out;
}

namespace {

// The phase a moment falls in: the last mark at or before it.
std::string PhaseAt(const std::vector<PhaseMark>& marks, double at_s) {
  std::string phase = "before the change";
  for (const auto& mark : marks) {
    if (mark.at_s <= at_s) phase = mark.name;
  }
  return phase;
}

}  // namespace

std::string RenderSlowest(const std::vector<LoadReport>& reports, std::size_t per_report) {
  std::string out;
  for (const auto& report : reports) {
    std::size_t n = std::min(per_report, report.slowest.size());
    for (std::size_t i = 0; i < n; ++i) {
      const SlowTransaction& t = report.slowest[i];
      // pgbench does not log which statement took the time.
      std::string statement =
          t.statement.empty() ? "" : fmt::format(": {:.1f} ms in {}", t.statement_ms, t.statement);
      out += fmt::format("{:<9} {:>7.1f} ms at {:>6.2f} s ({}){}{}\n",
                         i == 0 ? ShortLabel(report) : "", t.ms, t.began_s,
                         PhaseAt(report.phases, t.began_s), statement,
                         t.sqlstate.empty() ? "" : ", failed " + t.sqlstate);
    }
  }
  if (!out.empty()) {
    out = "slowest transactions (when each began, in which phase, and its slowest statement):\n" +
          out;
  }
  return out;
}

namespace {

// The seconds of `timeline` that overlap [from, to) (a span shorter than a second still gets the
// one it falls in), as one row of the peaks table.
std::string PeakRow(const std::string& label, const std::string& name, double from, double to,
                    const std::vector<SecondStats>& timeline, double reference) {
  int seconds = 0;
  int peaks = 0;
  double worst = 0;
  for (const auto& second : timeline) {
    double begin = second.index;
    if (begin + second.length_s <= from || begin >= std::max(to, from + 1e-9)) continue;
    ++seconds;
    if (second.max_ms > reference) ++peaks;
    worst = std::max(worst, second.max_ms);
  }
  return fmt::format("{:<9} {:<22} {:>7.1f} {:>5}/{:<3} {:>9.1f}\n", label, name, to - from, peaks,
                     seconds, worst);
}

}  // namespace

std::string RenderPeaksByPhase(const std::vector<LoadReport>& reports) {
  std::optional<double> baseline_max;
  if (const LoadReport* baseline = BaselineOf(reports)) baseline_max = baseline->during.max_ms;
  std::string rows;
  for (const auto& report : reports) {
    if (!report.has_change || report.baseline || report.phases.size() < 2) continue;
    double reference = baseline_max.value_or(report.before.max_ms);
    std::string label = ShortLabel(report);
    rows += PeakRow(label, "(the whole change)", report.phases.front().at_s,
                    report.phases.back().at_s, report.timeline, reference);
    if (report.phases.size() == 2) continue;
    for (std::size_t i = 0; i + 1 < report.phases.size(); ++i) {
      rows += PeakRow("", report.phases[i].name, report.phases[i].at_s, report.phases[i + 1].at_s,
                      report.timeline, reference);
    }
  }
  if (rows.empty()) return "";
  return fmt::format(
             "peaks by phase (a peak is a second whose slowest transaction took longer than {}):\n"
             "{:<9} {:<22} {:>7} {:>9} {:>9}\n",
             baseline_max ? fmt::format("the baseline's max, {:.1f} ms", *baseline_max)
                          : std::string("the max before the change"),
             "variant", "phase", "s", "peaks", "worst ms") +
         rows;
}

namespace {

// `value` as a multiple of `reference`, or "-" when the reference is no measure (zero or less:
// a change that cost nothing, or a window that did not run).
std::string Times(double value, double reference) {
  if (reference <= 0) return "-";
  return fmt::format("{:.2f}x", value / reference);
}

}  // namespace

std::string RenderRatios(const std::vector<LoadReport>& reports, const std::string& versus) {
  std::string prefix = versus.starts_with("(") ? versus : "(" + versus + ")";
  const LoadReport* reference = nullptr;
  for (const auto& report : reports) {
    if (report.label.starts_with(prefix) && report.has_change) {
      reference = &report;
      break;
    }
  }
  if (reference == nullptr) return "";
  const LoadReport* baseline = BaselineOf(reports);
  auto lost = [&](const LoadReport& report) {
    return baseline ? LostAgainst(baseline->during.tps, report.during) : report.lost_transactions;
  };
  std::string out = fmt::format(
      "against {} in the same run (each change's figure as a multiple of its):\n"
      "{:<9} {:>9} {:>10} {:>8}{}\n",
      reference->label, "variant", "change s", baseline ? "lost@base" : "lost tx", "max ms",
      baseline ? fmt::format(" {:>15}", "max / no-change") : "");
  for (const auto& report : reports) {
    if (&report == reference || report.baseline || !report.has_change) continue;
    out += fmt::format(
        "{:<9} {:>9} {:>10} {:>8}{}\n", ShortLabel(report),
        Times(report.during.duration_s(), reference->during.duration_s()),
        Times(lost(report), lost(*reference)),
        Times(report.during.max_ms, reference->during.max_ms),
        baseline ? fmt::format(" {:>15}", Times(report.during.max_ms, baseline->during.max_ms))
                 : "");
  }
  return out;
}
}  // namespace zerodown::load
