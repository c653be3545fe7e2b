#include <fmt/format.h>

#include <iostream>
#include <thread>

#include "cli/support.hpp"

namespace zerodown::cli {
namespace {

nlohmann::json StatusJson(const engine::MigrationStatus& status) {
  nlohmann::json j = {{"initialized", status.initialized}, {"search_path", status.search_path}};
  if (status.active) {
    j["active"] = {{"name", status.active->name},
                   {"phase", status.active->phase},
                   {"started_at", status.active->created_at}};
    nlohmann::json steps = nlohmann::json::array();
    for (const auto& s : status.steps) {
      steps.push_back({{"phase", s.phase},
                       {"action", s.action},
                       {"done", s.done},
                       {"rows_done", s.rows_done},
                       {"rows_total", s.rows_total}});
    }
    j["active"]["steps"] = steps;
  }
  if (status.latest_complete) {
    j["latest_complete"] = {{"name", status.latest_complete->name},
                            {"completed_at", status.latest_complete->updated_at}};
  }
  return j;
}

void PrintStatus(const engine::MigrationStatus& status, const std::string& schema) {
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
                             status.active->phase, status.active->created_at);
    for (const auto& s : status.steps) {
      if (s.rows_total > 0 || s.rows_done > 0) {
        std::cout << fmt::format("  {} {}: {} / ~{} rows{}\n", s.phase, s.action, s.rows_done,
                                 s.rows_total, s.done ? " (done)" : "");
      }
    }
  }
  if (!status.search_path.empty()) {
    std::cout << fmt::format("newest version: SET search_path TO {}\n", status.search_path);
  }
}

const CommandRegistration kRegistration{
    70, [](CLI::App& app, GlobalOptions& global) {
      auto watch = std::make_shared<bool>(false);
      auto* cmd = app.add_subcommand(
          "status",
          "Show the migration in progress (phase, backfill progress), the current version and the "
          "search_path applications should use.\n\nExamples:\n  zerodown status\n"
          "  zerodown status --json | jq .search_path\n  zerodown status --watch");
      cmd->add_flag("--watch", *watch, "refresh every second until interrupted");
      cmd->callback([&global, watch] {
        pg::Connection conn = Connect(global);
        engine::SilentProgress silent;
        engine::Engine engine(conn, MakeEngineOptions(global, EngineFlags{}), silent);
        do {
          auto status = engine.Status();
          if (global.json) {
            std::cout << StatusJson(status).dump() << "\n";
          } else {
            if (*watch) std::cout << "\033[H\033[2J";
            PrintStatus(status, global.schema);
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
        engine::SilentProgress silent;
        engine::Engine engine(conn, MakeEngineOptions(global, EngineFlags{}), silent);
        auto status = engine.Status();
        std::cout << (status.search_path.empty() ? global.schema : status.search_path) << "\n";
      });
    }};

}  // namespace
}  // namespace zerodown::cli
