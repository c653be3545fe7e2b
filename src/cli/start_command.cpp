#include <iostream>

#include "cli/support.hpp"
#include "zerodown/sql/sql_down.hpp"

namespace zerodown::cli {
namespace {

struct StartFlags {
  std::string file;
  EngineFlags engine;
  bool complete = false;
  bool allow_blocking = false;
};

const CommandRegistration kRegistration{
    40, [](CLI::App& app, GlobalOptions& global) {
      auto flags = std::make_shared<StartFlags>();
      auto* cmd = app.add_subcommand(
          "start",
          "Expand: apply a migration so that the old and the new schema version both work. New "
          "columns are added beside old ones and kept in step by triggers; they are filled by "
          "batched updates, or, for a large table, by copying the table into a new heap that is "
          "swapped in under a lock held for milliseconds (--mechanism; `zerodown plan` shows the "
          "choice). The new version reads and writes through views in its own schema. Run "
          "`complete` when every application instance uses the new version, or `rollback`.\n\n"
          "Examples:\n  zerodown start migrations/004_balance_bigint.yaml\n"
          "  zerodown start migrations/004_balance_bigint.sql    # plain SQL, run online\n"
          "  zerodown start --chunk-time 20 migrations/004.json   # gentler backfill\n"
          "  zerodown start --complete migrations/005.yaml         # start and complete at once");
      cmd->add_option("file", flags->file,
                      "migration file: operations (.yaml, .yml, .json) or plain SQL DDL (.sql)")
          ->required()
          ->check(CLI::ExistingFile);
      cmd->add_flag("--complete", flags->complete,
                    "complete the migration right after start (waiting while `zerodown "
                    "postpone-cutover` holds the cut-over back)");
      cmd->add_flag("--allow-blocking", flags->allow_blocking,
                    "run SQL statements that have no online form as they are (they may block the "
                    "application)");
      AddEngineFlags(cmd, flags->engine);
      cmd->callback([&global, flags] {
        model::Migration migration = LoadMigration(flags->file, global, flags->allow_blocking);
        if (auto left = sql::SqlLeftBehind(migration); !left.empty()) {
          std::cerr << "warning: a rollback will leave what these statements make in place (give "
                       "their operation a `down`):\n"
                    << sql::DescribeLeftBehind(left);
        }
        pg::Connection conn = Connect(global);
        MigrationSession session(global, flags->engine);
        engine::Engine engine(conn, session.options(), session.progress());
        auto record = engine.Start(migration);
        if (flags->complete) {
          session.WaitWhileCutoverPostponed();  // complete is the cut-over
          record = engine.Complete();
        }
        if (global.json) {
          nlohmann::json json = RecordJson(record);
          json["search_path"] = record.plan.version_schema;
          std::cout << json.dump() << "\n";
        } else if (!flags->complete) {
          std::cout << "migration \"" << record.name
                    << "\" started: old and new versions both work now.\n"
                    << "new version: SET search_path TO " << record.plan.version_schema << "\n"
                    << "next: `zerodown complete` once every instance uses it, or `zerodown "
                       "rollback`.\n";
        } else {
          std::cout << "migration \"" << record.name << "\" applied and completed.\n";
        }
      });
    }};

}  // namespace
}  // namespace zerodown::cli
