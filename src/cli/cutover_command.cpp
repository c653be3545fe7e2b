// zerodown postpone-cutover / cutover: hold the cut-over of the migration running on a schema
// back, and let it go. The flag is a row of zerodown.control (see monitor/control.hpp and
// monitor/cutover.hpp), so it survives a restart of either side and works from any host that can
// reach the database.
#include <fmt/format.h>

#include <iostream>

#include "cli/support.hpp"
#include "zerodown/monitor/control.hpp"

namespace zerodown::cli {
namespace {

void Report(const GlobalOptions& global, bool postponed, const std::string& text) {
  if (global.json) {
    std::cout << nlohmann::json{{"schema", global.schema},
                                {"cutover", postponed ? "postponed" : "allowed"}}
                     .dump()
              << "\n";
  } else {
    std::cout << text << "\n";
  }
}

const CommandRegistration kPostpone{
    76, [](CLI::App& app, GlobalOptions& global) {
      auto* cmd = app.add_subcommand(
          "postpone-cutover",
          "Hold back the cut-over of the migration on a schema until `zerodown cutover`: the "
          "swap of a shadow copy, and `complete` (which is the cut-over of an expand/contract "
          "migration). Everything before it (expand, backfill, copy, catch-up) goes on, so the "
          "cut-over can happen at a moment you choose, e.g. outside peak hours or after a "
          "deploy. The flag lives in the database: it holds across restarts of zerodown, for "
          "migrations started before or after it, until `zerodown cutover`.\n\nExamples:\n"
          "  zerodown postpone-cutover --schema public\n"
          "  zerodown start --complete m.yaml    # runs up to the cut-over, then waits\n"
          "  zerodown status                     # cut-over: postponed\n"
          "  zerodown cutover                    # it goes on within a second");
      cmd->callback([&global] {
        pg::Connection conn = Connect(global);
        monitor::SetControl(conn, global.schema, std::string(monitor::kCutoverPostponedKey), "true")
            .ThrowIfError();
        Report(global, true,
               fmt::format("postponed the cut-over of schema \"{}\"; `zerodown cutover` lets it "
                           "proceed",
                           global.schema));
      });
    }};

const CommandRegistration kCutover{
    77, [](CLI::App& app, GlobalOptions& global) {
      auto* cmd = app.add_subcommand(
          "cutover",
          "Let a cut-over held back by `zerodown postpone-cutover` proceed: a migration waiting "
          "for it goes on within about a second; later ones no longer wait. Changes nothing "
          "when nothing was postponed.\n\nExample:\n  zerodown cutover --schema public");
      cmd->callback([&global] {
        pg::Connection conn = Connect(global);
        bool was = monitor::ReadControl(conn, global.schema).cutover_postponed;
        monitor::ClearControl(conn, global.schema, std::string(monitor::kCutoverPostponedKey));
        Report(global, false,
               was ? fmt::format("released the cut-over of schema \"{}\"", global.schema)
                   : fmt::format("the cut-over of schema \"{}\" was not postponed; nothing to do",
                                 global.schema));
      });
    }};

}  // namespace
}  // namespace zerodown::cli
