// zerodown bluegreen create|start|complete|status|switch|finish|abort|unfence: a green database
// kept in sync with blue by logical replication, a migration run on green alone, the switch and
// back. The logic is in bluegreen/; this file parses flags and prints.
#include <fmt/format.h>

#include <csignal>
#include <filesystem>
#include <iostream>
#include <memory>
#include <optional>
#include <thread>

#include "cli/bluegreen_status.hpp"
#include "cli/support.hpp"
#include "zerodown/bluegreen/bluegreen.hpp"
#include "zerodown/monitor/pair_metrics.hpp"

namespace zerodown::cli {
namespace {

struct BlueGreenFlags {
  std::string green_url;
  std::string blue_for_green;
  std::string green_for_blue;
  bluegreen::SwitchOptions switching;
  double step_timeout_s = 10;
  double max_lag_s = 1;
  double guardrail_wait_s = 30;
  int max_transaction_age_s = 5;
  std::string proxy_targets = "blue,green";
  bool watch = false;
  std::string metrics_addr;  // status: serve the pair's gauges while --watch runs
  std::string migration;     // start: the file; complete: the name (or the file)
  EngineFlags engine;
};

bluegreen::Pair OpenPair(const GlobalOptions& global, const BlueGreenFlags& flags) {
  pg::Connection green = pg::Connection::Open(flags.green_url, "zerodown bluegreen");
  return bluegreen::Pair(Connect(global), std::move(green), flags.blue_for_green,
                         flags.green_for_blue);
}

bluegreen::Progress Printer(const GlobalOptions& global) {
  return [json = global.json](std::string_view line) {
    if (json) {
      std::cerr << nlohmann::json{{"event", "bluegreen"}, {"message", line}}.dump() << "\n";
    } else {
      std::cerr << line << "\n";
    }
  };
}

void AddPairFlags(CLI::App* cmd, BlueGreenFlags& flags) {
  cmd->add_option("--green", flags.green_url, "libpq URL or conninfo of the green database")
      ->envname("ZERODOWN_GREEN_URL")
      ->required();
  cmd->add_option("--blue-conninfo-for-green", flags.blue_for_green,
                  "how green's server reaches blue (default: as zerodown reached it)");
  cmd->add_option("--green-conninfo-for-blue", flags.green_for_blue,
                  "how blue's server reaches green (default: as zerodown reached it)");
}

void RunStatus(const GlobalOptions& global, BlueGreenFlags& flags) {
  bluegreen::Pair pair = OpenPair(global, flags);
  flags.switching.guardrails.max_lag_seconds = flags.max_lag_s;
  std::optional<monitor::PairMetrics> metrics;
  if (!flags.metrics_addr.empty()) {
    metrics.emplace();
    metrics->Serve(flags.metrics_addr).ThrowIfError();
    std::string host = flags.metrics_addr.substr(0, flags.metrics_addr.rfind(':'));
    std::cerr << fmt::format("serving the pair's metrics at http://{}:{}/metrics\n", host,
                             metrics->port());
  }
  for (;;) {
    auto report = bluegreen::Inspect(pair, flags.switching.guardrails).ValueOrThrow();
    if (metrics) metrics->Set(PairSampleOf(report));
    if (global.json) {
      std::cout << StatusJson(report).dump() << "\n" << std::flush;
    } else {
      PrintStatus(report);
    }
    if (!flags.watch) return;
    // --watch writes the heartbeat twice a second while it waits for the next refresh.
    for (int i = 0; i < 2; ++i) {
      std::this_thread::sleep_for(std::chrono::milliseconds(500));
      bluegreen::Heartbeat(pair);
    }
    if (!global.json) std::cout << "\n";
  }
}

void RunSwitch(const GlobalOptions& global, BlueGreenFlags& flags) {
  auto& options = flags.switching;
  options.step_timeout =
      std::chrono::milliseconds(static_cast<std::int64_t>(flags.step_timeout_s * 1000));
  options.guardrails.max_lag_seconds = flags.max_lag_s;
  options.guardrail_wait =
      std::chrono::milliseconds(static_cast<std::int64_t>(flags.guardrail_wait_s * 1000));
  options.guardrails.max_transaction_age = std::chrono::seconds(flags.max_transaction_age_s);
  auto comma = flags.proxy_targets.find(',');
  if (comma == std::string::npos) {
    throw Error(ErrorKind::kUsage,
                fmt::format("--proxy-targets \"{}\" is not BLUE,GREEN", flags.proxy_targets),
                "Name the proxy's two --target names, blue's first: --proxy-targets blue,green.");
  }
  options.proxy.blue_target = flags.proxy_targets.substr(0, comma);
  options.proxy.green_target = flags.proxy_targets.substr(comma + 1);
  bluegreen::Pair pair = OpenPair(global, flags);
  auto report = bluegreen::Switch(pair, options, Printer(global)).ValueOrThrow();
  if (global.json) {
    nlohmann::json steps = nlohmann::json::object();
    for (const auto& [name, ms] : report.steps_ms) steps[name] = ms;
    std::cout << nlohmann::json{{"from", bluegreen::SideName(report.from)},
                                {"to", bluegreen::SideName(report.to)},
                                {"switched", report.switched},
                                {"pause_ms", report.pause_ms},
                                {"lag_seconds_before", report.lag_seconds_before},
                                {"steps_ms", steps}}
                     .dump()
              << "\n";
  } else if (!report.switched) {
    std::cout << fmt::format(
        "an interrupted switch from {} to {} was undone: {} serves; run switch again\n",
        bluegreen::SideName(report.from), bluegreen::SideName(report.to),
        bluegreen::SideName(report.from));
  } else {
    std::cout << fmt::format(
        "switched from {} to {}: traffic paused {:.1f} ms (lag before {:.3f} s)\n",
        bluegreen::SideName(report.from), bluegreen::SideName(report.to), report.pause_ms,
        report.lag_seconds_before);
  }
}

// The engine's commands bluegreen runs on green only.
enum class OnGreen { kStart, kComplete, kRollback };

void PrintOnGreen(OnGreen command, const engine::MigrationRecord& record) {
  switch (command) {
    case OnGreen::kStart:
      std::cout << fmt::format(
          "migration \"{}\" started on green while blue serves; green's new version: SET "
          "search_path TO {}\nnext: `zerodown bluegreen complete {}` (or switch with it "
          "started), or `zerodown bluegreen rollback {}`\n",
          record.name, record.plan.version_schema, record.name, record.name);
      return;
    case OnGreen::kComplete:
      std::cout << fmt::format("migration \"{}\" completed on green; blue is unchanged\n",
                               record.name);
      return;
    case OnGreen::kRollback:
      std::cout << fmt::format(
          "migration \"{}\" rolled back on green; green has blue's schema again and keeps "
          "replicating\n",
          record.name);
      return;
  }
}

void RunOnGreen(const GlobalOptions& global, BlueGreenFlags& flags, OnGreen command) {
  GlobalOptions on_green = global;
  on_green.postgres_url = flags.green_url;
  std::string name = flags.migration;
  std::optional<model::Migration> migration;
  if (command == OnGreen::kStart || (IsMigrationFile(name) && std::filesystem::exists(name))) {
    migration = LoadMigration(flags.migration, global);
    name = migration->name;
  }
  bluegreen::Pair pair = OpenPair(global, flags);
  // Green's work keeps to blue's application, which serves, and shares its machine, disks or
  // network with green more often than not.
  MigrationSession session(on_green, flags.engine, /*health_checks=*/false, global.postgres_url);
  auto run = [&] {
    switch (command) {
      case OnGreen::kStart:
        return bluegreen::StartOnGreen(pair, *migration, session.options(), session.progress());
      case OnGreen::kComplete:
        return bluegreen::CompleteOnGreen(pair, name, session.options(), session.progress());
      case OnGreen::kRollback:
        break;
    }
    return bluegreen::RollbackOnGreen(pair, name, session.options(), session.progress());
  };
  auto record = run().ValueOrThrow();
  if (global.json) {
    std::cout << RecordJson(record).dump() << "\n";
  } else {
    PrintOnGreen(command, record);
  }
}

void AddSwitchFlags(CLI::App* cmd, BlueGreenFlags& flags) {
  auto& o = flags.switching;
  cmd->add_flag("--back", o.back, "switch from green back to blue");
  cmd->add_option(
      "--pause-command", o.hooks.pause,
      "shell command that pauses traffic and returns once in-flight transactions ended");
  cmd->add_option("--switch-command", o.hooks.move,
                  "shell command that sends traffic to $ZERODOWN_BLUEGREEN_TO");
  cmd->add_option("--resume-command", o.hooks.resume, "shell command that resumes traffic");
  cmd->add_option("--proxy", o.proxy.admin,
                  "admin endpoint (HOST:PORT) of a running `zerodown proxy` that moves traffic "
                  "instead of the hooks");
  cmd->add_option("--proxy-targets", flags.proxy_targets,
                  "the proxy's target names of blue and green, as BLUE,GREEN")
      ->capture_default_str();
  cmd->add_option("--pgbouncer", o.pgbouncer.console,
                  "PgBouncer's admin console (postgresql://ADMIN@HOST:PORT/pgbouncer, a user in "
                  "its admin_users) that moves traffic instead of the hooks: PAUSE the entry, "
                  "point its ini line at the other side, RELOAD, RESUME");
  cmd->add_option("--pgbouncer-database", o.pgbouncer.database,
                  "with --pgbouncer: the [databases] entry the application connects to");
  cmd->add_option("--pgbouncer-ini", o.pgbouncer.ini,
                  "with --pgbouncer: PgBouncer's ini file; the entry's line (in it or in a file "
                  "it %includes, a relative path taken from the working directory as PgBouncer "
                  "does) gets the other side's host, port and dbname as zerodown reaches it "
                  "(rewritten atomically, every other line kept)");
  cmd->add_option("--step-timeout", flags.step_timeout_s,
                  "seconds each step may take before the switch is undone")
      ->capture_default_str()
      ->check(CLI::Range(0.01, 600.0));
  cmd->add_option("--max-lag", flags.max_lag_s, "seconds of replication lag a switch accepts")
      ->capture_default_str();
  cmd->add_option("--max-lag-bytes", o.guardrails.max_lag_bytes,
                  "bytes of unconfirmed WAL a switch accepts")
      ->capture_default_str();
  cmd->add_option(
         "--guardrail-wait", flags.guardrail_wait_s,
         "seconds to wait for lag to drop and long transactions and maintenance (VACUUM, index "
         "builds) to end before refusing")
      ->capture_default_str()
      ->check(CLI::Range(0.0, 3600.0));
  cmd->add_option("--max-transaction-age", flags.max_transaction_age_s,
                  "seconds a transaction may be open on the serving side for a switch to start")
      ->capture_default_str();
  cmd->add_option("--sequence-margin", o.sequence_margin,
                  "how far beyond the serving side's value each sequence is set")
      ->capture_default_str();
}

void AddCreate(CLI::App* bg, const GlobalOptions& global,
               const std::shared_ptr<BlueGreenFlags>& flags) {
  auto* create = bg->add_subcommand(
      "create", "copy blue's schema to the empty green and start replicating into it");
  AddPairFlags(create, *flags);
  create->callback([&global, flags] {
    bluegreen::Pair pair = OpenPair(global, *flags);
    auto report = bluegreen::Create(pair, {}, Printer(global)).ValueOrThrow();
    if (global.json) {
      std::cout
          << nlohmann::json{{"tables", report.tables}, {"fingerprint", report.fingerprint}}.dump()
          << "\n";
    } else {
      std::cout << fmt::format("replicating {} tables from blue to green\n", report.tables.size());
    }
  });
}

// `start`, `complete` and `rollback`: the engine's commands, run on green only.
void AddOnGreen(CLI::App* bg, const GlobalOptions& global,
                const std::shared_ptr<BlueGreenFlags>& flags) {
  auto* start = bg->add_subcommand(
      "start",
      "run a migration's start on green only, while blue serves and replicates into it "
      "(add column, change a column's type, add an index or constraint)");
  start->add_option("migration", flags->migration, "migration file, as `zerodown start`")
      ->required()
      ->check(CLI::ExistingFile);
  AddPairFlags(start, *flags);
  AddEngineFlags(start, flags->engine);
  start->callback([&global, flags] { RunOnGreen(global, *flags, OnGreen::kStart); });

  for (OnGreen command : {OnGreen::kComplete, OnGreen::kRollback}) {
    bool complete = command == OnGreen::kComplete;
    auto* sub = bg->add_subcommand(
        complete ? "complete" : "rollback",
        complete ? "complete on green the migration `bluegreen start` ran there, blue serving"
                 : "undo on green the migration `bluegreen start` ran there, blue serving; "
                   "green keeps replicating");
    sub->add_option("migration", flags->migration, "the migration's name (or its file)")
        ->required();
    AddPairFlags(sub, *flags);
    AddEngineFlags(sub, flags->engine);
    sub->callback([&global, flags, command] { RunOnGreen(global, *flags, command); });
  }
}

void AddStatusAndSwitch(CLI::App* bg, const GlobalOptions& global,
                        const std::shared_ptr<BlueGreenFlags>& flags) {
  auto* status = bg->add_subcommand(
      "status", "lag, initial-copy progress and the guardrails of a switch (writes a heartbeat)");
  AddPairFlags(status, *flags);
  status->add_flag("--watch", flags->watch,
                   "refresh every second, writing a heartbeat twice a second");
  status->add_option("--max-lag", flags->max_lag_s, "lag guardrail in seconds")
      ->capture_default_str();
  status->add_option("--metrics-addr", flags->metrics_addr,
                     "with --watch: serve the pair's Prometheus metrics on host:port "
                     "(zerodown_bluegreen_*, docs/bluegreen.md)");
  status->callback([&global, flags] { RunStatus(global, *flags); });

  auto* sw = bg->add_subcommand(
      "switch", "move the application to green (or back to blue with --back), losing no write");
  AddPairFlags(sw, *flags);
  AddSwitchFlags(sw, *flags);
  sw->callback([&global, flags] { RunSwitch(global, *flags); });
}

// `unfence`: one database's write fence lifted, the one given with --postgres-url.
void AddUnfence(CLI::App* bg, const GlobalOptions& global) {
  auto* unfence = bg->add_subcommand(
      "unfence",
      "lift the write fence of the database given with --postgres-url: the side `finish` left "
      "fenced, or green after a switch back (blue serving)");
  unfence->callback([&global] {
    pg::Connection conn = Connect(global);
    auto report = bluegreen::LiftFence(conn, std::chrono::milliseconds(global.lock_timeout_ms))
                      .ValueOrThrow();
    if (global.json) {
      std::cout << nlohmann::json{{"tables", report.tables}}.dump() << "\n";
      return;
    }
    if (report.tables.empty()) {
      std::cout << "not fenced: nothing to lift\n";
      return;
    }
    std::cout << fmt::format("lifted the write fence of {} table(s)\n", report.tables.size());
    if (report.side) {
      std::cerr << fmt::format(
          "{} still receives the serving side's changes: a write made here is not carried "
          "there, and one that conflicts with a replicated row stops the subscription\n",
          bluegreen::SideName(*report.side));
    }
  });
}

// `finish` and `abort`: the pair's replication dropped, on either side of a switch.
void AddEnds(CLI::App* bg, const GlobalOptions& global,
             const std::shared_ptr<BlueGreenFlags>& flags) {
  for (bool abort : {false, true}) {
    auto* end = bg->add_subcommand(
        abort ? "abort" : "finish",
        abort ? "while blue serves: drop all replication of the pair and blue's fence"
              : "drop all replication of the pair; the side not serving stays fenced");
    AddPairFlags(end, *flags);
    end->callback([&global, flags, abort] {
      bluegreen::Pair pair = OpenPair(global, *flags);
      bluegreen::Finish(pair, abort, Printer(global)).ThrowIfError();
      if (global.json) std::cout << nlohmann::json{{"done", true}}.dump() << "\n";
    });
  }
  AddUnfence(bg, global);
}

const CommandRegistration kRegistration{
    90, [](CLI::App& app, GlobalOptions& global) {
      auto flags = std::make_shared<BlueGreenFlags>();
      auto* bg = app.add_subcommand(
          "bluegreen",
          "A green database with blue's schema, kept in sync by logical replication; a switch "
          "to it in well under a second and a way back that loses no write (docs/bluegreen.md)."
          "\n\nExample:\n  zerodown bluegreen create --green postgres://db2/shop\n"
          "  zerodown bluegreen start --green postgres://db2/shop migrations/005.yaml\n"
          "  zerodown bluegreen status --green postgres://db2/shop\n"
          "  zerodown bluegreen switch --green postgres://db2/shop --proxy 127.0.0.1:6433");
      bg->require_subcommand(1);
      AddCreate(bg, global, flags);
      AddOnGreen(bg, global, flags);
      AddStatusAndSwitch(bg, global, flags);
      AddEnds(bg, global, flags);
    }};

}  // namespace
}  // namespace zerodown::cli
