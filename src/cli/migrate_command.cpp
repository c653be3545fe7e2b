#include <algorithm>
#include <filesystem>
#include <iostream>

#include "cli/support.hpp"

namespace zerodown::cli {
namespace {

struct MigrateFlags {
  std::string directory;
  EngineFlags engine;
};

const CommandRegistration kRegistration{
    45, [](CLI::App& app, GlobalOptions& global) {
      auto flags = std::make_shared<MigrateFlags>();
      auto* cmd = app.add_subcommand(
          "migrate",
          "Apply every pending migration of a directory in file-name order, each started and "
          "completed. Migrations already completed are skipped, so it is safe to run on every "
          "deploy.\n\nExample:\n  zerodown migrate migrations/");
      cmd->add_option("directory", flags->directory,
                      "directory of migrations (.yaml, .yml, .json, .sql)")
          ->required()
          ->check(CLI::ExistingDirectory);
      AddEngineFlags(cmd, flags->engine);
      cmd->callback([&global, flags] {
        std::vector<std::filesystem::path> files;
        for (const auto& entry : std::filesystem::directory_iterator(flags->directory)) {
          auto ext = entry.path().extension().string();
          if (entry.is_regular_file() && (ext == ".yaml" || ext == ".yml" || ext == ".json")) {
            files.push_back(entry.path());
          }
        }
        std::sort(files.begin(), files.end());
        // Read and check every file before the first change.
        std::vector<model::Migration> migrations;
        for (const auto& f : files) migrations.push_back(LoadMigration(f.string(), global));
        pg::Connection conn = Connect(global);
        MigrationSession session(global, flags->engine);
        engine::Engine engine(conn, session.options(), session.progress());
        engine::State state(conn);
        int applied = 0;
        for (const auto& migration : migrations) {
          auto existing = state.Find(global.schema, migration.name);
          if (existing && existing->phase == engine::MigrationPhase::kComplete) continue;
          session.progress().OnMessage("applying " + migration.name + " (" + migration.source +
                                       ")");
          engine.Start(migration);
          session.WaitWhileCutoverPostponed();  // complete is the cut-over
          engine.Complete();
          ++applied;
        }
        std::cout << (applied ? std::to_string(applied) + " migration(s) applied.\n"
                              : "nothing to apply: every migration is complete.\n");
      });
    }};

}  // namespace
}  // namespace zerodown::cli
