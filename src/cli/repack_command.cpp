// `zerodown repack TABLE`: rebuilds a bloated table online, the way pg_repack does, through the
// shadow copy (a `rebuild_table` migration started and completed at once). Resumable: a killed
// repack continues when the same command runs again.
#include <fmt/format.h>

#include <algorithm>
#include <ctime>
#include <iostream>

#include "cli/support.hpp"

namespace zerodown::cli {
namespace {

struct RepackFlags {
  std::string table;
  EngineFlags engine;
};

std::string Timestamp() {
  std::time_t now = std::time(nullptr);
  std::tm utc{};
  gmtime_r(&now, &utc);
  char text[32];
  std::strftime(text, sizeof text, "%Y%m%d%H%M%S", &utc);
  return text;
}

const CommandRegistration kRegistration{
    47, [](CLI::App& app, GlobalOptions& global) {
      auto flags = std::make_shared<RepackFlags>();
      auto* cmd = app.add_subcommand(
          "repack",
          "Rebuild a table online to reclaim the space dead rows and bloated indexes hold, like "
          "pg_repack but without an extension: the rows are copied in key order into a new heap "
          "(no lock the application waits on), its indexes are built once, the writes made "
          "meanwhile are replayed from a change log, and the new heap is swapped in under a "
          "lock held for milliseconds (lock_timeout, retried). Indexes, constraints, foreign "
          "keys, views, triggers, grants and sequences follow the table. The schema does not "
          "change, so applications keep their search_path. Needs a primary key and about the "
          "table's size in free disk.\n\nExamples:\n"
          "  zerodown repack pgbench_accounts\n"
          "  zerodown repack --schema billing invoices --chunk-time 20");
      cmd->add_option("table", flags->table, "the table to rebuild")->required();
      AddEngineFlags(cmd, flags->engine);
      cmd->callback([&global, flags] {
        pg::Connection conn = Connect(global);
        MigrationSession session(global, flags->engine);
        engine::Engine engine(conn, session.options(), session.progress());
        // A killed repack of the same table is resumed under its own name.
        std::string prefix = "repack_" + flags->table + "_";
        std::string name = prefix + Timestamp();
        engine::MigrationStatus status = engine.Status();
        // Exactly repack_<table>_<timestamp>: a prefix alone would also match a repack of
        // <table>_x.
        if (status.active && status.active->name.rfind(prefix, 0) == 0) {
          std::string rest = status.active->name.substr(prefix.size());
          if (rest.size() == name.size() - prefix.size() &&
              std::all_of(rest.begin(), rest.end(), [](char c) { return c >= '0' && c <= '9'; })) {
            name = status.active->name;
          }
        }
        model::Migration migration;
        migration.name = name;
        migration.source = "zerodown repack " + flags->table;
        model::RebuildTable rebuild;
        rebuild.table = flags->table;
        migration.operations.push_back(rebuild);
        engine::MigrationRecord record =
            status.active && status.active->name == name &&
                    status.active->phase != engine::MigrationPhase::kStarting
                ? *status.active
                : engine.Start(migration);
        record = engine.Complete();
        if (global.json) {
          std::cout << RecordJson(record).dump() << "\n";
        } else {
          std::cout << fmt::format("table \"{}\" rebuilt ({}).\n", flags->table, record.name);
        }
      });
    }};

}  // namespace
}  // namespace zerodown::cli
