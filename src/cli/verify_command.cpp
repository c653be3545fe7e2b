#include <fmt/format.h>
#include <unistd.h>

#include <chrono>
#include <iostream>

#include "cli/support.hpp"
#include "zerodown/verify/verify.hpp"

namespace zerodown::cli {
namespace {

constexpr const char* kRoundTripNote =
    "note: a row the new version wrote is copied back to the old column through `down`; when "
    "up(down(x)) != x for some value (a lossy down, such as bigint -> int with clamping), that "
    "row differs legitimately. Compare the samples with your up/down before you roll back.";

struct VerifyFlags {
  std::int64_t range_rows = 10000;
  int max_ranges = 10;
  int samples = 5;
};

// Progress on stderr: a live line on a terminal, a line every two seconds otherwise, JSON events
// with --json.
class ProgressPrinter {
 public:
  explicit ProgressPrinter(bool json) : json_(json), tty_(isatty(STDERR_FILENO) != 0) {}
  ~ProgressPrinter() { EndLine(); }

  void operator()(const verify::VerifyProgress& p) {
    if (json_) {
      std::cerr << nlohmann::json{{"event", "verify"},
                                  {"description", p.description},
                                  {"rows_checked", p.rows_checked},
                                  {"rows_total", p.rows_total},
                                  {"rows_mismatched", p.rows_mismatched},
                                  {"ranges", p.ranges},
                                  {"rows_per_second", p.rows_per_second},
                                  {"eta_seconds", p.eta_seconds}}
                       .dump()
                << "\n";
      return;
    }
    double pct = p.rows_total > 0 ? 100.0 * p.rows_checked / p.rows_total : 100.0;
    std::string line = fmt::format(
        "  verify {}: {} / ~{} rows ({:.0f}%), {} mismatched, {:.0f} rows/s, ETA {:.0f}s",
        p.description, p.rows_checked, p.rows_total, pct, p.rows_mismatched, p.rows_per_second,
        p.eta_seconds);
    auto now = std::chrono::steady_clock::now();
    if (tty_) {
      std::cerr << "\r\033[K" << line << std::flush;
      open_line_ = true;
    } else if (now - last_ >= std::chrono::seconds(2)) {
      std::cerr << line << "\n";
      last_ = now;
    }
  }

  void EndLine() {
    if (open_line_) std::cerr << "\r\033[K" << std::flush;
    open_line_ = false;
  }

 private:
  bool json_;
  bool tty_;
  bool open_line_ = false;
  std::chrono::steady_clock::time_point last_ = std::chrono::steady_clock::now();
};

// The migration whose copies verify compares: the active one, once its start is done.
engine::MigrationRecord ActiveMigration(pg::Connection& conn, const GlobalOptions& global) {
  engine::State state(conn);
  state.RequireInitialized();
  auto active = state.Active(global.schema);
  if (!active) {
    throw Error(ErrorKind::kConflict,
                fmt::format("there is no migration in progress on schema \"{}\" to verify: "
                            "verify compares the old and new versions of the columns a "
                            "migration copies, between `zerodown start` and `zerodown complete`",
                            global.schema),
                "Run it after `zerodown start FILE` (and before `complete`), or pass --schema "
                "for the schema the migration runs on; `zerodown status` shows what is in "
                "progress.");
  }
  if (active->phase != engine::MigrationPhase::kActive) {
    throw Error(ErrorKind::kConflict,
                fmt::format("migration \"{}\" is in phase {}: its copies are not complete, so "
                            "verify would report every row not yet filled",
                            active->name, engine::PhaseName(active->phase)),
                active->phase == engine::MigrationPhase::kStarting
                    ? "Its start is running or was interrupted: let it finish (or run `zerodown "
                      "start` with the same file again), then verify."
                    : "Wait for the running command to finish, or run it again to resume it.");
  }
  return *active;
}

void SayNothingToCompare(const GlobalOptions& global, const std::string& migration) {
  if (global.json) {
    std::cout << nlohmann::json{{"migration", migration},
                                {"ok", true},
                                {"checks", nlohmann::json::array()}}
                     .dump()
              << "\n";
  } else {
    std::cout << fmt::format(
        "migration \"{}\" copies no column, so there is nothing to compare: its new version "
        "reads the same data as the old.\n",
        migration);
  }
}

// Runs every check of the plan, printing each report as it ends (not with --json).
std::vector<verify::VerifyReport> RunChecks(pg::Connection& conn, const GlobalOptions& global,
                                            const VerifyFlags& flags,
                                            const engine::MigrationRecord& active) {
  const auto& checks = active.plan.checks;
  ProgressPrinter printer(global.json);
  verify::VerifyOptions options;
  options.range_rows = flags.range_rows;
  options.max_reported_ranges = flags.max_ranges;
  options.sample_rows = flags.samples;
  options.on_progress = [&printer](const verify::VerifyProgress& p) { printer(p); };
  std::vector<verify::VerifyReport> reports;
  if (!global.json) {
    std::cout << fmt::format("verifying migration \"{}\": {} check{}\n\n", active.name,
                             checks.size(), checks.size() == 1 ? "" : "s");
  }
  for (const auto& check : checks) {
    verify::RowComparison comparison{check.description, check.schema, check.table,
                                     check.key_columns, check.select_sql};
    reports.push_back(verify::CompareRows(conn, comparison, options));
    printer.EndLine();
    if (!global.json) std::cout << verify::Render(reports.back()) << "\n" << std::flush;
  }
  return reports;
}

// The summary of every report; kVerifyFailed when a row differs.
void Conclude(const GlobalOptions& global, const std::string& migration,
              const std::vector<verify::VerifyReport>& reports) {
  std::int64_t rows = 0;
  std::int64_t mismatched = 0;
  int failed = 0;
  nlohmann::json json_checks = nlohmann::json::array();
  for (const auto& r : reports) {
    rows += r.rows_checked;
    mismatched += r.rows_mismatched;
    failed += r.ok() ? 0 : 1;
    json_checks.push_back(verify::ToJson(r));
  }
  if (global.json) {
    std::cout << nlohmann::json{{"migration", migration},
                                {"ok", failed == 0},
                                {"rows_checked", rows},
                                {"rows_mismatched", mismatched},
                                {"checks", json_checks}}
                     .dump()
              << "\n";
  } else if (failed == 0) {
    std::cout << fmt::format(
        "OK: every one of {} rows holds in the new version what the old "
        "version's row says it should.\n",
        rows);
  } else {
    std::cout << kRoundTripNote << "\n";
  }
  std::cout.flush();
  if (failed > 0) {
    throw Error(ErrorKind::kVerifyFailed,
                fmt::format("{} of {} rows differ in {} of {} checks of migration \"{}\"",
                            mismatched, rows, failed, reports.size(), migration),
                "Look at the sample rows: a row written by neither version (a trigger disabled, "
                "a restore) needs a fix by hand or "
                "`zerodown rollback` and a new start; a lossy down explains rows written by the "
                "new version.");
  }
}

void Run(const GlobalOptions& global, const VerifyFlags& flags) {
  pg::Connection conn = Connect(global);
  engine::MigrationRecord active = ActiveMigration(conn, global);
  if (active.plan.checks.empty()) {
    SayNothingToCompare(global, active.name);
    return;
  }
  Conclude(global, active.name, RunChecks(conn, global, flags, active));
}

const CommandRegistration kRegistration{
    78, [](CLI::App& app, GlobalOptions& global) {
      auto flags = std::make_shared<VerifyFlags>();
      auto* cmd = app.add_subcommand(
          "verify",
          "Check, between `start` and `complete`, that every row's new column holds what the "
          "old version's row says it should (up(old row) against the copy), for each column "
          "the migration copies. It reads the table in key ranges of --range-rows keys, each "
          "with two short autocommit SELECTs that take only ACCESS SHARE, so it blocks no "
          "write and can run on a busy table; memory stays flat for any size. It prints rows "
          "checked, rows/s, the first mismatching key ranges with sample rows, and a verdict. "
          "A row the new version wrote can legitimately differ when up(down(x)) != x.\n\n"
          "Exit status: 0 every row matches, 1 rows differ, 2 no migration in progress.\n\n"
          "Examples:\n"
          "  zerodown verify\n"
          "  zerodown verify --range-rows 50000          # fewer, larger ranges on big tables\n"
          "  zerodown verify --json | jq '.checks[] | {description, rows_mismatched}'");
      cmd->add_option("--range-rows", flags->range_rows,
                      "keys per range: each range is one index walk and one aggregate; larger "
                      "ranges are faster overall but each SELECT runs longer")
          ->capture_default_str()
          ->check(CLI::Range(std::int64_t{1}, std::int64_t{100000000}));
      cmd->add_option("--max-ranges", flags->max_ranges,
                      "mismatching ranges to show per check (all are counted)")
          ->capture_default_str()
          ->check(CLI::Range(0, 100000));
      cmd->add_option("--samples", flags->samples, "sample rows to show per mismatching range")
          ->capture_default_str()
          ->check(CLI::Range(0, 1000));
      cmd->callback([&global, flags] { Run(global, *flags); });
    }};

}  // namespace
}  // namespace zerodown::cli
