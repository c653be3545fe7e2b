#include <iostream>

#include "cli/support.hpp"
#include "zerodown/model/migration_reader.hpp"
#include "zerodown/sql/sql_down.hpp"

namespace zerodown::cli {
namespace {

struct PlanFlags {
  std::string file;
  std::string format = "text";
  bool allow_blocking = false;
  std::string mechanism = "auto";
};

const CommandRegistration kRegistration{
    30, [](CLI::App& app, GlobalOptions& global) {
      auto flags = std::make_shared<PlanFlags>();
      auto* cmd = app.add_subcommand(
          "plan",
          "Check a migration against the database and print exactly what `start`, `complete` and "
          "`rollback` would run, with the lock each step takes. Changes nothing. Plain SQL is "
          "translated into online operations first.\n\nExamples:\n"
          "  zerodown plan migrations/004.yaml\n"
          "  zerodown plan migrations/004.sql                  # plain SQL, planned online\n"
          "  zerodown plan --format json 004.sql > 004.json    # the operations file (no "
          "database)\n"
          "  zerodown plan --json migrations/004.yaml          # the plan as JSON");
      cmd->add_option("file", flags->file,
                      "migration file: operations (.yaml, .yml, .json) or plain SQL DDL (.sql)")
          ->required()
          ->check(CLI::ExistingFile);
      cmd->add_option("--format", flags->format,
                      "text: the plan step by step; json: the migration's operations in pgroll's "
                      "format, without connecting")
          ->check(CLI::IsMember({"text", "json"}))
          ->capture_default_str();
      cmd->add_flag("--allow-blocking", flags->allow_blocking,
                    "plan SQL statements that have no online form as they are");
      cmd->add_option("--mechanism", flags->mechanism,
                      "how a change that rewrites every row moves the data: inplace (batched "
                      "UPDATEs in the live heap), shadow (a copy into a new heap, swapped in), "
                      "auto (by table size; the plan says why)")
          ->check(CLI::IsMember({"auto", "inplace", "shadow"}))
          ->capture_default_str();
      cmd->callback([&global, flags] {
        model::Migration migration = LoadMigration(flags->file, global, flags->allow_blocking);
        if (flags->format == "json") {
          std::cout << model::ToJson(migration).dump(2) << "\n";
          return;
        }
        pg::Connection conn = Connect(global);
        SilentProgress silent;
        engine::EngineOptions options = MakeEngineOptions(global, EngineFlags{});
        options.mechanism = *engine::MechanismFromName(flags->mechanism);
        engine::Engine engine(conn, options, silent);
        engine::Plan plan = engine.PlanOnly(migration);
        if (global.json) {
          std::cout << engine::ToJson(plan).dump(2) << "\n";
        } else {
          std::cout << engine::Describe(plan)
                    << sql::DescribeLeftBehind(sql::SqlLeftBehind(migration));
        }
      });
    }};

}  // namespace
}  // namespace zerodown::cli
