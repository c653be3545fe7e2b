#include <iostream>

#include "cli/support.hpp"
#include "zerodown/model/migration_reader.hpp"
#include "zerodown/sql/sql_down.hpp"

namespace zerodown::cli {
namespace {

// "the schema is as before." or what `sql` operations without a way back left in place.
std::string WhatStays(const engine::MigrationRecord& record) {
  auto migration = model::FromJson(record.migration, record.name);
  auto left =
      migration.ok() ? sql::SqlLeftBehind(migration.value()) : std::vector<sql::LeftBehind>{};
  if (left.empty()) return "the schema is as before.\n";
  return "the schema is as before, except what these statements made (their operation has no "
         "`down`):\n" +
         sql::DescribeLeftBehind(left);
}

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
          std::cout << RecordJson(record).dump() << "\n";
        } else {
          std::cout << "migration \"" << record.name << "\" rolled back; " << WhatStays(record);
        }
      });
    }};

}  // namespace
}  // namespace zerodown::cli
