#include <iostream>

#include "cli/support.hpp"

namespace zerodown::cli {
namespace {

const CommandRegistration kRegistration{
    30, [](CLI::App& app, GlobalOptions& global) {
      auto file = std::make_shared<std::string>();
      auto* cmd = app.add_subcommand(
          "plan",
          "Check a migration against the database and print exactly what `start`, `complete` and "
          "`rollback` would run, with the lock each step takes. Changes nothing.\n\nExample:\n"
          "  zerodown plan migrations/004.yaml");
      cmd->add_option("file", *file, "migration file (.yaml, .yml, .json)")
          ->required()
          ->check(CLI::ExistingFile);
      cmd->callback([&global, file] {
        model::Migration migration = LoadMigration(*file);
        pg::Connection conn = Connect(global);
        engine::SilentProgress silent;
        engine::Engine engine(conn, MakeEngineOptions(global, EngineFlags{}), silent);
        engine::Plan plan = engine.PlanOnly(migration);
        if (global.json) {
          std::cout << engine::ToJson(plan).dump(2) << "\n";
        } else {
          std::cout << engine::Describe(plan);
        }
      });
    }};

}  // namespace
}  // namespace zerodown::cli
