#include <iostream>

#include "cli/support.hpp"

namespace zerodown::cli {
namespace {

const CommandRegistration kRegistration{
    60, [](CLI::App& app, GlobalOptions& global) {
      auto flags = std::make_shared<EngineFlags>();
      auto* cmd = app.add_subcommand(
          "rollback",
          "Undo the migration in progress (any time before `complete`): the new version's views, "
          "triggers and columns are dropped. The old columns were kept in step all along, so every "
          "write made through either version is there.\n\nExample:\n  zerodown rollback");
      AddEngineFlags(cmd, *flags);
      cmd->callback([&global, flags] {
        pg::Connection conn = Connect(global);
        MigrationSession session(global, *flags, /*health_checks=*/false);
        engine::Engine engine(conn, session.options(), session.progress());
        auto record = engine.Rollback();
        if (global.json) {
          std::cout << nlohmann::json{{"migration", record.name}, {"phase", record.phase}}.dump()
                    << "\n";
        } else {
          std::cout << "migration \"" << record.name
                    << "\" rolled back; the schema is as before.\n";
        }
      });
    }};

}  // namespace
}  // namespace zerodown::cli
