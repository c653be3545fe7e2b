#include <iostream>

#include "cli/support.hpp"
#include "zerodown/engine/state.hpp"

namespace zerodown::cli {
namespace {

const CommandRegistration kRegistration{
    10, [](CLI::App& app, GlobalOptions& global) {
      auto* cmd = app.add_subcommand(
          "init",
          "Create zerodown's state schema (schema `zerodown`) in the target database. Safe to run "
          "again: a second run changes nothing.\n\nExample:\n  zerodown init --postgres-url "
          "postgres://app@db.internal/shop");
      cmd->callback([&global] {
        pg::Connection conn = Connect(global);
        engine::State state(conn);
        bool created = state.Init();
        if (global.json) {
          std::cout << nlohmann::json{{"created", created}, {"database", conn.Database()}}.dump()
                    << "\n";
        } else {
          std::cout << (created ? "initialised zerodown in database \"" + conn.Database() + "\"\n"
                                : "zerodown is already initialised in database \"" +
                                      conn.Database() + "\"; nothing to do\n");
        }
      });
    }};

}  // namespace
}  // namespace zerodown::cli
