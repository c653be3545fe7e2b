// What a load run measured, and how it is shown: a per-second timeline, phase marks, and
// before / during / after windows with throughput, latency percentiles, slow and failed
// transactions, and the transactions the change cost. Renders a terminal table, JSON and an SVG
// chart. It does not run anything: LoadRunner fills the tallies, BuildReport does the arithmetic.
#pragma once

#include <cstddef>
#include <cstdint>
#include <map>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "zerodown/common/error.hpp"
#include "zerodown/load/histogram.hpp"

namespace zerodown::load {

// A transaction slower than this counts as slow (the "> 100 ms" column).
inline constexpr std::uint64_t kSlowMicros = 100'000;

// Counts of finished transactions over some span of time. Not thread-safe.
struct Tally {
  LatencyHistogram latency;        // every finished attempt, committed or failed
  std::uint64_t transactions = 0;  // committed
  std::uint64_t failed = 0;
  std::uint64_t slow = 0;                       // attempts above kSlowMicros, counted exactly
  std::map<std::string, std::uint64_t> errors;  // failed attempts by SQLSTATE

  // Counts one attempt; `sqlstate` empty means it committed.
  void Record(std::uint64_t micros, const std::string& sqlstate);
  void Merge(const Tally& other);
};

// A named instant on the run's clock, in seconds since the load started.
struct PhaseMark {
  std::string name;
  double at_s = 0;
};

// How a command run under `zerodown bench` marks its phases: each line `phase: NAME` on its
// stdout puts a mark NAME on the timeline. Bench sets kPhaseLinesEnv=1 in the command's
// environment; zerodown's own commands then print a line at each step they start.
inline constexpr std::string_view kPhaseLinePrefix = "phase: ";
inline constexpr const char* kPhaseLinesEnv = "ZERODOWN_PHASE_LINES";

// The tally between two consecutive marks (or the run's start / end).
struct Segment {
  double begin_s = 0;
  double end_s = 0;
  Tally tally;
};

// One second of the timeline (second `index` covers [index, index+1) on the run's clock).
struct SecondStats {
  int index = 0;
  double length_s = 1;  // shorter for the last, partial second of a run
  std::uint64_t transactions = 0;
  std::uint64_t failed = 0;
  std::uint64_t slow = 0;
  std::map<std::string, std::uint64_t> errors;
  double p50_ms = 0, p95_ms = 0, p99_ms = 0, max_ms = 0;
};

// One of the run's slowest transactions, kept so that a report can say where its worst moment
// came from: when it began, and which statement of it took the time (a lock wait shows there).
struct SlowTransaction {
  double began_s = 0;     // on the run's clock
  double ms = 0;          // the whole attempt
  std::string statement;  // the slowest statement's SQL, shortened
  double statement_ms = 0;
  std::string sqlstate;  // empty when it committed
};

// How many of the slowest transactions a run keeps.
inline constexpr std::size_t kSlowestKept = 5;

// Figures for one window of the run.
struct WindowStats {
  std::string name;  // "before", "during", "after", "total"
  double begin_s = 0, end_s = 0;
  std::uint64_t transactions = 0, failed = 0, slow = 0;
  std::map<std::string, std::uint64_t> errors;
  double tps = 0;
  double p50_ms = 0, p95_ms = 0, p99_ms = 0, max_ms = 0;
  double duration_s() const { return end_s - begin_s; }
};

// Which marks bound the "during" window; empty names mean the first and the last mark.
struct WindowChoice {
  std::string from;
  std::string to;
};

struct LoadReport {
  std::string label;     // e.g. the W1 variant, "(b) native ALTER"
  std::string workload;  // "tpcb" or the script names
  int clients = 0;
  std::vector<PhaseMark> phases;
  std::vector<SecondStats> timeline;
  // The run's slowest transactions, slowest first (at most kSlowestKept).
  std::vector<SlowTransaction> slowest;
  WindowStats before, during, after, total;
  bool has_change = false;  // false when no phase was marked: only `total`/`before` mean anything
  // TPS during as a percentage of TPS before; 0 when there was no before.
  double during_tps_percent = 0;
  // TPS before × duration of the change − transactions done during it (can be negative).
  double lost_transactions = 0;
  // How long the change kept the application off the table at its cut-over: the ACCESS EXCLUSIVE
  // hold time in milliseconds (a native ALTER's whole run, a shadow copy's swap); nullopt when
  // unknown (not measured, or a mechanism without one lock to time).
  std::optional<double> cutover_lock_ms;
  // Peak resident memory of the benchmarked command, in KiB: the largest of its processes (the
  // client side only; the server's memory is not counted). nullopt when no command ran.
  std::optional<std::int64_t> command_max_rss_kb;
  std::string note;  // e.g. "not available yet" for a variant that could not run
  // The no-change run of a comparison (bench --baseline): its TPS during is the application's
  // steady rate, which RenderComparison measures the other rows' lost transactions against too.
  bool baseline = false;
};

// Builds the report from the segments between marks (`segments.size() == marks.size() + 1`,
// in time order) and the finished seconds. "during" spans from the `choice.from` mark (first mark
// by default) to the `choice.to` mark (last mark by default; the end of the run when there is only
// one mark). Fails with kUsage when a named mark does not exist or `to` precedes `from`.
Result<LoadReport> BuildReport(const std::vector<Segment>& segments,
                               const std::vector<PhaseMark>& marks,
                               std::vector<SecondStats> timeline, const WindowChoice& choice = {});

// Second `index` of the timeline from the tally of what finished in it.
SecondStats SummarizeSecond(int index, const Tally& tally);

// Per-window figures from a tally over [begin_s, end_s].
WindowStats MakeWindow(std::string name, double begin_s, double end_s, const Tally& tally);

// The transactions the application could not run during `change`, had it kept running at `tps`.
double LostAgainst(double tps, const WindowStats& change);

// The before / during / after table with the change's cost underneath, for a terminal.
std::string RenderTable(const LoadReport& report);
// One row per report (a W1 variant): duration of the change, TPS during as % of before, p99,
// max latency, transactions > 100 ms, failed, transactions lost during the change, the cut-over's
// lock time and the command's peak RSS ("-" where unknown). With a baseline among them
// (LoadReport::baseline, with a change window), a `lost@base` column measures each row's lost
// transactions against the baseline's TPS during instead of the row's own "before" window: a
// steadier rate when the runs are as long.
std::string RenderComparison(const std::vector<LoadReport>& reports);
// Every other change of the same run against one of them, `versus` (a label's "(c)" prefix, or
// "c"): its duration, lost transactions (lost@base with a baseline among the reports) and max
// latency as multiples of the reference's, and, with a baseline, its max as a multiple of the
// baseline's. The ratios a goal such as "no more than pg_repack's cost" is read from. Empty
// when no report with a change has that label.
std::string RenderRatios(const std::vector<LoadReport>& reports, const std::string& versus);
// Where the slowest transactions of each report began (the phase mark before them) and what they
// waited in, one line each: the max latency column's explanation.
std::string RenderSlowest(const std::vector<LoadReport>& reports, std::size_t per_report = 3);
// Which phase of each change hurt the application, second by second: for every phase between
// the first and the last mark, the seconds of the timeline it overlaps, how many of them had a
// slowest transaction above the reference, and the worst. The reference is the baseline's max
// during (the application alone, over as long a window) when a baseline is among the reports,
// else each report's own max before its change. Empty when no report has a change.
std::string RenderPeaksByPhase(const std::vector<LoadReport>& reports);
// The whole report as JSON, and back (timeline included; histograms are not kept).
nlohmann::json ToJson(const LoadReport& report);
Result<LoadReport> ReportFromJson(const nlohmann::json& json);
// A self-contained SVG: TPS (top) and p99 / max latency on a log scale (bottom) per second, with
// the phases shaded and labelled.
std::string RenderSvg(const LoadReport& report);

}  // namespace zerodown::load
