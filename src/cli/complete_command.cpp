#include <iostream>

#include "cli/support.hpp"

namespace zerodown::cli {
namespace {

const CommandRegistration kRegistration{
    50, [](CLI::App& app, GlobalOptions& global) {
      auto flags = std::make_shared<EngineFlags>();
      auto* cmd = app.add_subcommand(
          "complete",
          "Contract: finish the migration in progress. The previous version's views, the sync "
          "triggers and the old columns go away; each change is a short catalog update under "
          "--lock-timeout. Run it once no application instance uses the old version. While "
          "`zerodown postpone-cutover` holds the cut-over back it waits, and goes on within a "
          "second of `zerodown cutover`.\n\n"
          "Example:\n  zerodown complete --postgres-url postgres://app@db/shop");
      AddEngineFlags(cmd, *flags);
      cmd->callback([&global, flags] {
        pg::Connection conn = Connect(global);
        MigrationSession session(global, *flags, /*health_checks=*/false);
        engine::Engine engine(conn, session.options(), session.progress());
        // Complete is the cut-over of an expand/contract migration: `zerodown postpone-cutover`
        // holds it here. Only with a migration to complete, so that `complete` with nothing in
        // progress still fails at once.
        if (engine.Status().active) session.WaitWhileCutoverPostponed();
        auto record = engine.Complete();
        if (global.json) {
          std::cout << RecordJson(record).dump() << "\n";
        } else {
          std::cout << "migration \"" << record.name << "\" completed; the schema is now version "
                    << record.plan.version_schema << ".\n";
        }
      });
    }};

}  // namespace
}  // namespace zerodown::cli
