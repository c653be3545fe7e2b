// `zerodown bench`: runs a workload against a database, optionally around a command (a migration,
// an ALTER, pg_repack…), and prints throughput and latency before, during and after it. Phase
// lines the command prints (`phase: NAME`) become marks on the timeline. `--summarize` turns
// saved JSON reports into one comparison table (what bench/w1.sh prints).
#include <fmt/format.h>
#include <unistd.h>

#include <chrono>
#include <condition_variable>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <functional>
#include <iostream>
#include <map>
#include <mutex>
#include <sstream>
#include <thread>

#include "cli/bench_flags.hpp"
#include "cli/command.hpp"
#include "zerodown/load/child_process.hpp"
#include "zerodown/load/pgbench_load.hpp"
#include "zerodown/load/runner.hpp"
#include "zerodown/pg/connection.hpp"

namespace zerodown::cli {
namespace {

std::string PgBinDir() {
  const char* env = std::getenv("ZERODOWN_PG_BINDIR");
  return env && *env ? env : "/usr/lib/postgresql/15/bin";
}

// Runs argv (looked up in PATH) with `extra_env` added to our environment, and waits. With
// `on_line`, each line of its stdout goes there instead; its stderr is always inherited. Exit
// status 127 when it could not start.
load::ChildExit Spawn(const std::vector<std::string>& args,
                      const load::ChildProcess::LineHandler& on_line,
                      const std::vector<std::string>& extra_env = {}) {
  auto child = load::ChildProcess::Start(args, extra_env, on_line, nullptr);
  if (!child.ok()) return {127, 0};
  return child.value()->Wait();
}

// The cut-over lock time `sql` reports (its first row's first column, in milliseconds), on a
// connection of its own; nullopt, with a warning, when it fails or returns no row or NULL.
std::optional<double> QueryCutoverLock(const GlobalOptions& global, const std::string& sql) {
  try {
    pg::Connection conn = pg::Connection::Open(global.postgres_url, "zerodown-bench");
    auto rows = conn.TryExec(sql);
    if (!rows.ok()) {
      std::cerr << "bench: --cutover-lock-sql failed: " << rows.error().message() << "\n";
      return std::nullopt;
    }
    if (rows.value().empty() || rows.value().columns() < 1 || rows.value().IsNull(0, 0))
      return std::nullopt;
    return rows.value().Double(0, 0);
  } catch (const Error& error) {
    std::cerr << "bench: --cutover-lock-sql: " << error.message() << "\n";
    return std::nullopt;
  }
}

void InitPgbench(const GlobalOptions& global, int scale) {
  std::string pgbench = PgBinDir() + "/pgbench";
  if (access(pgbench.c_str(), X_OK) != 0)
    throw Error(ErrorKind::kNotFound, "pgbench not found at " + pgbench,
                "Install postgresql-15 (Debian: apt-get install postgresql-15), or set "
                "ZERODOWN_PG_BINDIR to the directory that holds pgbench.");
  std::vector<std::string> args = {pgbench, "-i", "-q", "-s", std::to_string(scale)};
  if (!global.postgres_url.empty()) args.push_back(global.postgres_url);
  std::cerr << fmt::format("bench: creating pgbench tables at scale {} ({} accounts)\n", scale,
                           static_cast<long long>(scale) * 100000);
  int status = Spawn(args, nullptr).status;
  if (status != 0)
    throw Error(ErrorKind::kDatabase, fmt::format("pgbench -i exited with status {}", status),
                "Read pgbench's message above; the database must exist and accept the user.");
}

// Prints a progress line to stderr every few seconds until stopped.
class Progress {
 public:
  Progress(const load::LoadRunner& runner, bool quiet) : runner_(runner) {
    if (!quiet) thread_ = std::thread([this] { Run(); });
  }
  ~Progress() {
    {
      std::lock_guard lock(mutex_);
      done_ = true;
    }
    wake_.notify_all();
    if (thread_.joinable()) thread_.join();
  }

 private:
  void Run() {
    std::unique_lock lock(mutex_);
    while (!wake_.wait_for(lock, std::chrono::seconds(5), [this] { return done_; })) {
      auto second = runner_.LastSecond();
      if (!second) continue;
      std::cerr << fmt::format(
          "bench: {:>5.0f} s  {:>7} tps  p99 {:>7.2f} ms  max {:>8.1f} ms  failed {}\n",
          runner_.elapsed_s(), second->transactions, second->p99_ms, second->max_ms,
          second->failed);
    }
  }

  const load::LoadRunner& runner_;
  std::mutex mutex_;
  std::condition_variable wake_;
  bool done_ = false;
  std::thread thread_;
};

void SleepSeconds(double seconds) {
  std::this_thread::sleep_for(std::chrono::duration<double>(std::max(0.0, seconds)));
}

void WriteSvg(const std::string& path, const load::LoadReport& report) {
  std::ofstream svg(path);
  if (!svg) throw Error(ErrorKind::kUsage, "cannot write " + path);
  svg << load::RenderSvg(report);
}

int Summarize(const GlobalOptions& global, const BenchFlags& flags) {
  std::vector<load::LoadReport> reports;
  for (const auto& path : flags.summarize) {
    std::ifstream in(path);
    if (!in) throw Error(ErrorKind::kUsage, "cannot read " + path);
    nlohmann::json json;
    try {
      json = nlohmann::json::parse(in);
    } catch (const nlohmann::json::exception& e) {
      throw Error(ErrorKind::kUsage, path + " is not JSON: " + e.what());
    }
    // A single report (bench --json), a list of them (--summarize --json) or a W1 results file.
    if (json.contains("results")) json = json["results"];
    std::vector<nlohmann::json> items = json.contains("variants")
                                            ? json["variants"].get<std::vector<nlohmann::json>>()
                                            : std::vector<nlohmann::json>{json};
    for (const auto& item : items) {
      auto report = load::ReportFromJson(item);
      if (!report.ok()) throw report.error().WithWhere(path);
      reports.push_back(std::move(report).value());
    }
  }
  if (!flags.svg_path.empty()) {
    if (reports.size() != 1)
      throw Error(ErrorKind::kUsage, "--svg with --summarize draws one report",
                  "Pass one report file with one variant.");
    WriteSvg(flags.svg_path, reports.front());
  }
  if (global.json) {
    nlohmann::json variants = nlohmann::json::array();
    for (const auto& report : reports) variants.push_back(load::ToJson(report));
    std::cout << nlohmann::json{{"variants", variants}}.dump(2) << "\n";
  } else {
    std::string ratios;
    if (!flags.versus.empty()) {
      ratios = load::RenderRatios(reports, flags.versus);
      if (ratios.empty()) {
        throw Error(ErrorKind::kUsage,
                    "--versus " + flags.versus + ": no report with a change has that label",
                    "Name one of the given reports by its label's first word, e.g. --versus "
                    "'(c)'.");
      }
    }
    std::cout << load::RenderComparison(reports) << ratios << load::RenderSlowest(reports)
              << load::RenderPeaksByPhase(reports);
  }
  return 0;
}

// What Bench asks of the client driving the load: zerodown's own runner or pgbench.
struct LoadControl {
  std::function<void(std::string)> mark;
  std::function<double()> elapsed_s;
  std::function<void()> stop;
  std::function<Result<load::LoadReport>(const load::WindowChoice&)> report;
};

template <typename Load>
LoadControl ControlOf(Load& load) {
  return {[&load](std::string name) { load.MarkPhase(std::move(name)); },
          [&load] { return load.elapsed_s(); }, [&load] { load.Stop(); },
          [&load](const load::WindowChoice& choice) { return load.Report(choice); }};
}

// The command's run under the load, between the warm-up and the cool-down.
struct CommandRun {
  int status = 0;
  std::optional<std::int64_t> rss_kb;
  double seconds = 0;
};

CommandRun RunCommand(const BenchFlags& flags, const LoadControl& load) {
  SleepSeconds(flags.warmup_s);
  std::cerr << "bench: running";
  for (const auto& arg : flags.command) std::cerr << " " << arg;
  std::cerr << "\n";
  load.mark("start");
  auto on_line = [&](std::string line) {
    if (line.starts_with(load::kPhaseLinePrefix))
      load.mark(line.substr(load::kPhaseLinePrefix.size()));
    // The command's own output stays visible, on stderr so that --json stays parseable.
    std::cerr << line << "\n";
  };
  double started_s = load.elapsed_s();
  // zerodown's own commands print `phase:` lines only when asked (load::kPhaseLinesEnv).
  load::ChildExit result =
      Spawn(flags.command, on_line, {std::string(load::kPhaseLinesEnv) + "=1"});
  load.mark("end");
  CommandRun run;
  run.seconds = load.elapsed_s() - started_s;
  run.status = result.status;
  if (run.status != 127) run.rss_kb = result.max_rss_kb;
  if (run.status != 0)
    std::cerr << fmt::format("bench: the command exited with status {}\n", run.status);
  SleepSeconds(flags.cooldown_s);
  return run;
}

load::PgbenchOptions PgbenchOptionsOf(const GlobalOptions& global, const BenchFlags& flags) {
  load::PgbenchOptions options;
  options.pgbench = PgBinDir() + "/pgbench";
  options.conninfo = global.postgres_url;
  options.clients = flags.clients;
  options.threads = flags.threads;
  options.rate = flags.rate;
  options.protocol = flags.protocol;
  options.scripts = flags.scripts;
  options.show_progress = !flags.quiet;
  return options;
}

// Runs the load (for --duration, or around the command) and returns its report.
load::LoadReport RunLoad(const GlobalOptions& global, const BenchFlags& flags, CommandRun& run) {
  auto measure = [&](const LoadControl& load, const std::function<void()>& wait_alone) {
    if (flags.command.empty())
      wait_alone();
    else
      run = RunCommand(flags, load);
    load.stop();
    return load.report({flags.during_from, flags.during_to}).ValueOrThrow();
  };
  if (flags.client == BenchClient::kPgbench) {
    load::PgbenchLoad pgbench(PgbenchOptionsOf(global, flags));
    pgbench.Start().ThrowIfError();
    return measure(ControlOf(pgbench), [&] { SleepSeconds(flags.duration_s); });
  }
  load::LoadOptions options;
  options.conninfo = global.postgres_url;
  options.clients = flags.clients;
  options.rate = flags.rate;
  options.duration_s = flags.command.empty() ? flags.duration_s : 0;
  for (const auto& spec : flags.scripts)
    options.scripts.push_back(load::ReadScriptSpec(spec).ValueOrThrow());
  load::LoadRunner runner(options);
  runner.Start().ThrowIfError();
  Progress progress(runner, flags.quiet);
  return measure(ControlOf(runner), [&] { runner.Wait(); });
}

int Bench(const GlobalOptions& global, const BenchFlags& flags) {
  if (!flags.summarize.empty()) return Summarize(global, flags);
  if (flags.init) InitPgbench(global, flags.scale);
  CommandRun run;
  load::LoadReport report = RunLoad(global, flags, run);
  int command_status = run.status;
  std::optional<std::int64_t> command_rss_kb = run.rss_kb;
  double command_seconds = run.seconds;
  report.label = flags.label;
  report.baseline = flags.baseline;
  report.command_max_rss_kb = command_rss_kb;
  // Asked after the load stopped, so the query does not compete with it.
  if (flags.cutover_lock_whole && !flags.command.empty())
    report.cutover_lock_ms = command_seconds * 1000;
  else if (!flags.cutover_lock_sql.empty() && !flags.command.empty())
    report.cutover_lock_ms = QueryCutoverLock(global, flags.cutover_lock_sql);
  if (command_status == 127)
    report.note = "command not found: " + flags.command.front();
  else if (command_status != 0)
    report.note = fmt::format("command failed (exit {})", command_status);
  if (!flags.svg_path.empty()) WriteSvg(flags.svg_path, report);
  if (global.json) {
    auto json = load::ToJson(report);
    json["command"] = flags.command;
    json["command_exit"] = command_status;
    std::cout << json.dump(2) << "\n";
  } else {
    std::cout << load::RenderTable(report);
    if (!flags.svg_path.empty()) std::cout << "chart: " << flags.svg_path << "\n";
  }
  // A failed command is a failed benchmark: scripts must not mistake it for a measurement.
  return command_status == 0 ? 0 : 1;
}

const CommandRegistration kRegistration{
    80, [](CLI::App& app, GlobalOptions& global) {
      auto flags = std::make_shared<BenchFlags>();
      auto* cmd = app.add_subcommand(
          "bench",
          "Run a workload (pgbench's TPC-B-like transaction, or your scripts) and report TPS and "
          "latency before, during and after a command run under it: a migration, an ALTER, "
          "pg_repack. Each failed transaction is counted by SQLSTATE; the load never stops for "
          "it.\n"
          "Lines `phase: NAME` on the command's stdout mark phases on the timeline; the command "
          "runs with ZERODOWN_PHASE_LINES=1, which makes zerodown's own commands print one at "
          "each step. The `during` window still runs from the command's start to its end (unless "
          "--during-from / --during-to name other marks).\n\n"
          "Examples:\n"
          "  zerodown bench --postgres-url postgres:///shop --init --scale 20 --duration 30\n"
          "  zerodown bench --postgres-url postgres:///shop --svg out.svg -- \\\n"
          "      zerodown --postgres-url postgres:///shop start migrations/004.yaml\n"
          "  zerodown bench --script reads.sql@9 --script writes.sql@1 --rate 500 --duration 60\n"
          "  zerodown bench --client pgbench --rate 600 -c 8 -j 2 -- \\\n"
          "      pg_repack -d shop -t orders\n"
          "  zerodown bench --postgres-url postgres:///shop --cutover-lock-sql \"SELECT \\\n"
          "      (checkpoint->>'swap_lock_ms')::float FROM zerodown.steps ORDER BY updated_at \\\n"
          "      DESC LIMIT 1\" -- zerodown --postgres-url postgres:///shop repack orders\n"
          "  zerodown bench --summarize bench/results/a.json bench/results/b.json\n\n"
          "Script syntax: SQL statements ending in `;`, `\\set NAME random(LOW, HIGH)`, `\\set "
          "NAME "
          "N * :scale`; `:NAME` in SQL is sent as a parameter; :scale and :client_id are "
          "predefined.");
      AddLoadFlags(cmd, flags.get());
      AddReportFlags(cmd, flags.get());
      cmd->add_option("command", flags->command, "command to run under load (after `--`)");
      cmd->callback([&global, flags] {
        int code = Bench(global, *flags);
        if (code != 0) throw CommandExit{code};
      });
    }};

}  // namespace
}  // namespace zerodown::cli
