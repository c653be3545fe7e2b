#include <fmt/format.h>

#include <iostream>
#include <thread>

#include "cli/support.hpp"
#include "zerodown/monitor/control.hpp"

namespace zerodown::cli {
namespace {

// The live control rows of the schema (`zerodown pause`, `set`, `postpone-cutover`), and the
// --chunk-time the running command falls back to (status cannot know it: another process).
nlohmann::json ControlJson(const monitor::ControlValues& control) {
  nlohmann::json j = {
      {"paused", control.paused}, {"cutover", control.cutover_postponed ? "postponed" : "allowed"},
      {"chunk_time_ms", nullptr}, {"chunk_time_source", "--chunk-time"},
      {"max_lag_bytes", nullptr}, {"max_lag_seconds", nullptr}};
  if (control.chunk_time) {
    j["chunk_time_ms"] = control.chunk_time->count();
    j["chunk_time_source"] = "zerodown set";
  }
  if (control.max_lag_bytes) j["max_lag_bytes"] = *control.max_lag_bytes;
  if (control.max_lag_seconds) j["max_lag_seconds"] = *control.max_lag_seconds;
  return j;
}

void PrintControl(const monitor::ControlValues& control, bool active) {
  if (control.paused) std::cout << "paused: yes, by `zerodown pause`; `zerodown resume` ends it\n";
  if (control.cutover_postponed) {
    std::cout << "cut-over: postponed by `zerodown postpone-cutover`; `zerodown cutover` lets it "
                 "proceed\n";
  }
  if (control.chunk_time) {
    std::cout << fmt::format(
        "chunk time: {} ms, set live (`zerodown set chunk-time=default` goes back to "
        "--chunk-time)\n",
        control.chunk_time->count());
  } else if (active) {
    std::cout << "chunk time: the running command's --chunk-time (default 50 ms); `zerodown set "
                 "chunk-time=…` changes it live\n";
  }
  if (control.max_lag_bytes) {
    std::cout << fmt::format("max lag: {:.1f} MB, set live\n",
                             static_cast<double>(*control.max_lag_bytes) / (1024.0 * 1024.0));
  } else if (control.max_lag_seconds) {
    std::cout << fmt::format("max lag: {} s, set live\n", *control.max_lag_seconds);
  }
}

nlohmann::json StatusJson(const engine::MigrationStatus& status,
                          const monitor::ControlValues& control) {
  nlohmann::json j = {{"initialized", status.initialized},
                      {"search_path", status.search_path},
                      {"control", ControlJson(control)}};
  if (status.active) {
    j["active"] = {{"name", status.active->name},
                   {"phase", std::string(engine::PhaseName(status.active->phase))},
                   {"started_at", status.active->created_at}};
    nlohmann::json steps = nlohmann::json::array();
    for (const auto& s : status.steps) {
      nlohmann::json step = {{"phase", s.phase},
                             {"action", s.action},
                             {"done", s.done},
                             {"rows_done", s.rows_done},
                             {"rows_total", s.rows_total}};
      // A shadow copy's stage (copy, index, catchup, swapped, done) and its swap's lock time.
      if (s.checkpoint.is_object() && s.checkpoint.contains("stage")) {
        step["stage"] = s.checkpoint["stage"];
        if (s.checkpoint.contains("swap_lock_ms")) {
          step["swap_lock_ms"] = s.checkpoint["swap_lock_ms"];
        }
      }
      steps.push_back(std::move(step));
    }
    j["active"]["steps"] = steps;
  }
  if (status.latest_complete) {
    j["latest_complete"] = {{"name", status.latest_complete->name},
                            {"completed_at", status.latest_complete->updated_at}};
  }
  return j;
}

void PrintStatus(const engine::MigrationStatus& status, const monitor::ControlValues& control,
                 const std::string& schema) {
  if (!status.initialized) {
    std::cout << "zerodown is not initialised in this database: run `zerodown init`.\n";
    return;
  }
  if (status.latest_complete) {
    std::cout << fmt::format("current version: {} (completed {})\n", status.latest_complete->name,
                             status.latest_complete->updated_at);
  }
  if (!status.active) {
    std::cout << fmt::format("no migration in progress on schema \"{}\".\n", schema);
  } else {
    std::cout << fmt::format("in progress: {} (phase {}, started {})\n", status.active->name,
                             engine::PhaseName(status.active->phase), status.active->created_at);
    for (const auto& s : status.steps) {
      if (s.rows_total > 0 || s.rows_done > 0) {
        std::string stage;
        if (s.checkpoint.is_object() && s.checkpoint.contains("stage")) {
          stage = fmt::format(" [{}", s.checkpoint.value("stage", std::string()));
          if (s.checkpoint.contains("swap_lock_ms")) {
            stage += fmt::format(", swap held ACCESS EXCLUSIVE {:.1f} ms",
                                 s.checkpoint.value("swap_lock_ms", 0.0));
          }
          stage += "]";
        }
        std::cout << fmt::format("  {} {}: {} / ~{} rows{}{}\n", s.phase, s.action, s.rows_done,
                                 s.rows_total, s.done ? " (done)" : "", stage);
      }
    }
  }
  if (!status.search_path.empty()) {
    std::cout << fmt::format("newest version: SET search_path TO {}\n", status.search_path);
  }
  PrintControl(control, status.active.has_value());
}

const CommandRegistration kRegistration{
    70, [](CLI::App& app, GlobalOptions& global) {
      auto watch = std::make_shared<bool>(false);
      auto* cmd = app.add_subcommand(
          "status",
          "Show the migration in progress (phase, backfill progress), the current version, the "
          "search_path applications should use, and what live control asks of the running "
          "migration: paused, cut-over postponed, chunk time and lag limit set by `zerodown "
          "set`.\n\nExamples:\n  zerodown status\n"
          "  zerodown status --json | jq .search_path\n  zerodown status --watch");
      cmd->add_flag("--watch", *watch, "refresh every second until interrupted");
      cmd->callback([&global, watch] {
        pg::Connection conn = Connect(global);
        SilentProgress silent;
        engine::Engine engine(conn, MakeEngineOptions(global, EngineFlags{}), silent);
        do {
          auto status = engine.Status();
          auto control = monitor::ReadControl(conn, global.schema);
          if (global.json) {
            std::cout << StatusJson(status, control).dump() << "\n";
          } else {
            if (*watch) std::cout << "\033[H\033[2J";
            PrintStatus(status, control, global.schema);
          }
          std::cout.flush();
          if (*watch) std::this_thread::sleep_for(std::chrono::seconds(1));
        } while (*watch);
      });
    }};

const CommandRegistration kLatest{
    75, [](CLI::App& app, GlobalOptions& global) {
      auto* cmd = app.add_subcommand(
          "latest",
          "Print the newest version schema, for scripts: SET search_path TO $(zerodown "
          "latest)");
      cmd->callback([&global] {
        pg::Connection conn = Connect(global);
        SilentProgress silent;
        engine::Engine engine(conn, MakeEngineOptions(global, EngineFlags{}), silent);
        auto status = engine.Status();
        std::cout << (status.search_path.empty() ? global.schema : status.search_path) << "\n";
      });
    }};

}  // namespace
}  // namespace zerodown::cli
