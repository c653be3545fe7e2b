// The SVG chart of a load report: written by hand because it is a few dozen elements, and a
// plotting dependency (gnuplot) would be one more thing to install for one picture.
#include <fmt/format.h>

#include <algorithm>
#include <cmath>

#include "zerodown/load/report.hpp"

namespace zerodown::load {
namespace {

constexpr double kWidth = 960, kHeight = 500;
constexpr double kLeft = 70, kRight = 20;
constexpr double kTpsTop = 70, kTpsBottom = 250;
constexpr double kLatTop = 290, kLatBottom = 460;
// A final partial second shorter than this is left off the chart: its rate is mostly noise.
constexpr double kMinPlottedSecond = 0.5;

std::string Escape(const std::string& text) {
  std::string out;
  for (char c : text) {
    switch (c) {
      case '&':
        out += "&amp;";
        break;
      case '<':
        out += "&lt;";
        break;
      case '>':
        out += "&gt;";
        break;
      case '"':
        out += "&quot;";
        break;
      default:
        out += c;
    }
  }
  return out;
}

// A step of 1, 2 or 5 × 10^k that gives about `ticks` ticks over `range`.
double NiceStep(double range, int ticks) {
  double raw = range / std::max(ticks, 1);
  double power = std::pow(10.0, std::floor(std::log10(std::max(raw, 1e-9))));
  for (double m : {1.0, 2.0, 5.0, 10.0})
    if (m * power >= raw) return m * power;
  return 10 * power;
}

using Points = std::vector<std::pair<double, double>>;

std::string Polyline(const Points& points, const char* color, double width, const char* dash = "") {
  if (points.empty()) return {};
  if (points.size() == 1)  // a lone point would draw nothing
    return fmt::format("<circle cx=\"{:.1f}\" cy=\"{:.1f}\" r=\"{}\" fill=\"{}\"/>\n",
                       points[0].first, points[0].second, width + 0.8, color);
  std::string coords;
  for (const auto& [x, y] : points) coords += fmt::format("{:.1f},{:.1f} ", x, y);
  return fmt::format(
      "<polyline fill=\"none\" stroke=\"{}\" stroke-width=\"{}\" {}points=\"{}\"/>\n", color, width,
      *dash ? fmt::format("stroke-dasharray=\"{}\" ", dash) : "", coords);
}

// One polyline per run of points: a latency line breaks where nothing finished in a second (a
// full stall) instead of drawing a slope through it.
std::string Polylines(const std::vector<Points>& runs, const char* color, double width,
                      const char* dash = "") {
  std::string out;
  for (const auto& run : runs) out += Polyline(run, color, width, dash);
  return out;
}

// Where a second, a rate and a latency land on the chart.
struct Scales {
  double seconds = 1;  // the time axis' length
  double plot_width = kWidth - kLeft - kRight;
  double tps_top = 1;  // the rate at the top of the upper panel
  // Latency on a log scale, from 10^lo_exp to 10^hi_exp ms: a 2-second stall and a 5 ms p99
  // both stay readable.
  double lo_exp = 0;
  double hi_exp = 1;

  double X(double t) const { return kLeft + plot_width * t / seconds; }
  double YTps(double v) const { return kTpsBottom - (kTpsBottom - kTpsTop) * v / tps_top; }
  double YLat(double ms) const {
    double e = std::log10(std::max(ms, std::pow(10.0, lo_exp)));
    return kLatBottom - (kLatBottom - kLatTop) * (e - lo_exp) / (hi_exp - lo_exp);
  }
};

Scales ScalesOf(const LoadReport& report) {
  Scales scales;
  scales.seconds = std::max(1.0, report.total.end_s);
  for (const auto& s : report.timeline) {
    scales.seconds = std::max(scales.seconds, s.index + s.length_s);
  }
  double max_tps = 1;
  double max_ms = 1, min_ms = 1e9;
  for (const auto& s : report.timeline) {
    if (s.length_s >= kMinPlottedSecond)
      max_tps = std::max(max_tps, static_cast<double>(s.transactions + s.failed) / s.length_s);
    max_ms = std::max(max_ms, s.max_ms);
    if (s.p99_ms > 0) min_ms = std::min(min_ms, s.p99_ms);
  }
  scales.tps_top = max_tps * 1.1;
  scales.lo_exp = std::floor(std::log10(std::min(min_ms, max_ms)));
  scales.hi_exp = std::max(scales.lo_exp + 1, std::ceil(std::log10(max_ms)));
  return scales;
}

std::string Title(const LoadReport& report) {
  std::string title = report.label.empty() ? "zerodown bench" : report.label;
  if (report.has_change)
    title +=
        fmt::format(" — change {:.1f} s, TPS during {:.0f}% of before, {:.0f} tx lost, {} failed",
                    report.during.duration_s(), report.during_tps_percent, report.lost_transactions,
                    report.during.failed);
  if (report.has_change && report.cutover_lock_ms)
    title += fmt::format(", lock {:.0f} ms", *report.cutover_lock_ms);
  return fmt::format("<text x=\"{}\" y=\"20\" font-size=\"14\" font-weight=\"bold\">{}</text>\n",
                     kLeft, Escape(title));
}

// The change window, shaded across both panels, and each phase mark as a labelled line.
std::string ChangeAndMarks(const LoadReport& report, const Scales& scales) {
  std::string svg;
  if (report.has_change) {
    double x0 = scales.X(report.during.begin_s), x1 = scales.X(report.during.end_s);
    for (auto [top, bottom] : {std::pair{kTpsTop, kTpsBottom}, std::pair{kLatTop, kLatBottom}})
      svg += fmt::format(
          "<rect x=\"{:.1f}\" y=\"{}\" width=\"{:.1f}\" height=\"{}\" fill=\"#fde6c8\"/>\n", x0,
          top, std::max(1.0, x1 - x0), bottom - top);
  }
  for (std::size_t i = 0; i < report.phases.size(); ++i) {
    const auto& mark = report.phases[i];
    double px = scales.X(mark.at_s);
    svg += fmt::format(
        "<line x1=\"{0:.1f}\" x2=\"{0:.1f}\" y1=\"{1}\" y2=\"{2}\" stroke=\"#c77c1e\" "
        "stroke-dasharray=\"3,3\"/>\n",
        px, kTpsTop - 4 - 13.0 * static_cast<double>(i % 2), kLatBottom);
    // Labels alternate between two rows so that marks a second apart stay legible.
    svg += fmt::format("<text x=\"{:.1f}\" y=\"{:.1f}\" fill=\"#8a4f00\">{}</text>\n", px + 2,
                       kTpsTop - 6 - 13.0 * static_cast<double>(i % 2), Escape(mark.name));
  }
  return svg;
}

// Grid lines with their values, the time axis, and each panel's legend.
std::string AxesAndLegends(const Scales& scales) {
  std::string svg;
  double tps_step = NiceStep(scales.tps_top, 4);
  for (double v = 0; v <= scales.tps_top; v += tps_step)
    svg += fmt::format(
        "<line x1=\"{0}\" x2=\"{1}\" y1=\"{2:.1f}\" y2=\"{2:.1f}\" stroke=\"#e5e5e5\"/>"
        "<text x=\"{3}\" y=\"{4:.1f}\" text-anchor=\"end\">{5:.0f}</text>\n",
        kLeft, kWidth - kRight, scales.YTps(v), kLeft - 6, scales.YTps(v) + 4, v);
  for (double e = scales.lo_exp; e <= scales.hi_exp; e += 1)
    svg += fmt::format(
        "<line x1=\"{0}\" x2=\"{1}\" y1=\"{2:.1f}\" y2=\"{2:.1f}\" stroke=\"#e5e5e5\"/>"
        "<text x=\"{3}\" y=\"{4:.1f}\" text-anchor=\"end\">{5:g}</text>\n",
        kLeft, kWidth - kRight, scales.YLat(std::pow(10.0, e)), kLeft - 6,
        scales.YLat(std::pow(10.0, e)) + 4, std::pow(10.0, e));
  double t_step = NiceStep(scales.seconds, 10);
  for (double t = 0; t <= scales.seconds; t += t_step)
    svg += fmt::format("<text x=\"{:.1f}\" y=\"{}\" text-anchor=\"middle\">{:g}</text>\n",
                       scales.X(t), kLatBottom + 16, t);
  svg += fmt::format("<text x=\"{}\" y=\"{}\" text-anchor=\"middle\">seconds</text>\n",
                     kLeft + scales.plot_width / 2, kHeight - 8);
  svg += fmt::format(
      "<text x=\"{0}\" y=\"{1}\" font-weight=\"bold\">transactions per second</text>"
      "<text x=\"{2}\" y=\"{1}\" fill=\"#2a6fbb\">committed</text>"
      "<text x=\"{3}\" y=\"{1}\" fill=\"#c62828\">failed</text>\n",
      kLeft, kTpsTop - 30, kLeft + 180, kLeft + 260);
  svg += fmt::format(
      "<text x=\"{0}\" y=\"{1}\" font-weight=\"bold\">latency, ms (log)</text>"
      "<text x=\"{2}\" y=\"{1}\" fill=\"#6a1b9a\">p99</text>"
      "<text x=\"{3}\" y=\"{1}\" fill=\"#c62828\">max</text>"
      "<text x=\"{4}\" y=\"{1}\" fill=\"#777\">(a gap: no transaction finished that "
      "second)</text>\n",
      kLeft, kLatTop - 8, kLeft + 130, kLeft + 170, kLeft + 210);
  return svg;
}

// Committed and failed transactions a second; p99 and max latency, broken where nothing
// finished.
std::string Lines(const LoadReport& report, const Scales& scales) {
  Points tps, failed;
  std::vector<Points> p99(1), max(1);
  bool any_failed = false;
  for (const auto& s : report.timeline) {
    double px = scales.X(s.index + s.length_s / 2);
    if (s.length_s < kMinPlottedSecond) continue;
    tps.emplace_back(px, scales.YTps(static_cast<double>(s.transactions) / s.length_s));
    failed.emplace_back(px, scales.YTps(static_cast<double>(s.failed) / s.length_s));
    any_failed = any_failed || s.failed > 0;
    if (s.transactions + s.failed > 0) {
      p99.back().emplace_back(px, scales.YLat(s.p99_ms));
      max.back().emplace_back(px, scales.YLat(s.max_ms));
    } else if (!p99.back().empty()) {
      p99.emplace_back();
      max.emplace_back();
    }
  }
  std::string svg = Polyline(tps, "#2a6fbb", 1.8);
  if (any_failed) svg += Polyline(failed, "#c62828", 1.5);
  svg += Polylines(max, "#c62828", 1.2, "4,2");
  svg += Polylines(p99, "#6a1b9a", 1.8);
  return svg;
}

}  // namespace

std::string RenderSvg(const LoadReport& report) {
  Scales scales = ScalesOf(report);
  std::string svg = fmt::format(
      "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"{0}\" height=\"{1}\" "
      "viewBox=\"0 0 {0} {1}\" font-family=\"sans-serif\" font-size=\"12\">\n"
      "<rect width=\"100%\" height=\"100%\" fill=\"white\"/>\n",
      kWidth, kHeight);
  svg += Title(report);
  svg += ChangeAndMarks(report, scales);
  svg += AxesAndLegends(scales);
  svg += Lines(report, scales);
  for (auto [top, bottom] : {std::pair{kTpsTop, kTpsBottom}, std::pair{kLatTop, kLatBottom}})
    svg += fmt::format(
        "<rect x=\"{}\" y=\"{}\" width=\"{}\" height=\"{}\" fill=\"none\" stroke=\"#888\"/>\n",
        kLeft, top, scales.plot_width, bottom - top);
  svg += "</svg>\n";
  return svg;
}

}  // namespace zerodown::load
