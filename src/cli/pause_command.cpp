// zerodown pause / resume / set: live control of the migration running on a schema, through rows
// of zerodown.control that its throttler reads at most once a second (see monitor/control.hpp).
// They work from any host that can reach the database; the running zerodown needs no socket.
#include <fmt/format.h>

#include <iostream>
#include <memory>
#include <vector>

#include "cli/support.hpp"
#include "zerodown/monitor/control.hpp"

namespace zerodown::cli {
namespace {

void Report(const GlobalOptions& global, const std::string& key, const std::string& value,
            const std::string& text) {
  if (global.json) {
    std::cout << nlohmann::json{{"schema", global.schema}, {"key", key}, {"value", value}}.dump()
              << "\n";
  } else {
    std::cout << text << "\n";
  }
}

Status CheckValue(const std::string& key, const std::string& value) {
  if (key == monitor::kChunkTimeKey) {
    auto parsed = monitor::ParseChunkTime(value);
    return parsed ? Status::Ok() : Status(parsed.error());
  }
  auto parsed = monitor::ParseLagLimit(value);
  return parsed ? Status::Ok() : Status(parsed.error());
}

const CommandRegistration kPause{
    72, [](CLI::App& app, GlobalOptions& global) {
      auto* cmd = app.add_subcommand(
          "pause",
          "Hold back the running migration's backfill and copy before their next chunk, until "
          "`zerodown resume`. DDL already waiting for its lock is not affected. Takes effect "
          "within about a second.\n\nExample:\n  zerodown pause --schema public");
      cmd->callback([&global] {
        pg::Connection conn = Connect(global);
        monitor::SetControl(conn, global.schema, std::string(monitor::kPausedKey), "true")
            .ThrowIfError();
        Report(global, "paused", "true",
               fmt::format("paused the migration of schema \"{}\"; `zerodown resume` lets it go "
                           "on",
                           global.schema));
      });
    }};

const CommandRegistration kResume{
    73, [](CLI::App& app, GlobalOptions& global) {
      auto* cmd =
          app.add_subcommand("resume",
                             "Let a migration held back by `zerodown pause` go on.\n\nExample:\n"
                             "  zerodown resume --schema public");
      cmd->callback([&global] {
        pg::Connection conn = Connect(global);
        monitor::ClearControl(conn, global.schema, std::string(monitor::kPausedKey));
        Report(global, "paused", "false",
               fmt::format("resumed the migration of schema \"{}\"", global.schema));
      });
    }};

const CommandRegistration kSet{
    74, [](CLI::App& app, GlobalOptions& global) {
      auto settings = std::make_shared<std::vector<std::string>>();
      auto* cmd = app.add_subcommand(
          "set",
          "Change a setting of the running migration: chunk-time (target time per backfill "
          "chunk) or max-lag (replication lag, as a size or a duration, above which it waits). "
          "`name=default` goes back to the command-line value.\n\nExamples:\n"
          "  zerodown set chunk-time=200ms\n  zerodown set max-lag=64MB\n"
          "  zerodown set max-lag=30s chunk-time=default");
      cmd->add_option("settings", *settings, "name=value pairs")->required();
      cmd->callback([&global, settings] {
        // Check every pair before writing any, so a typo changes nothing.
        std::vector<std::pair<std::string, std::string>> pairs;
        for (const auto& s : *settings) {
          auto eq = s.find('=');
          if (eq == std::string::npos || eq == 0) {
            throw Error(ErrorKind::kUsage, fmt::format("\"{}\" is not name=value", s),
                        "Write e.g. `zerodown set chunk-time=200ms max-lag=64MB`.");
          }
          std::string key = s.substr(0, eq);
          std::string value = s.substr(eq + 1);
          if (key != monitor::kChunkTimeKey && key != monitor::kMaxLagKey) {
            throw Error(ErrorKind::kUsage, fmt::format("unknown setting \"{}\"", key),
                        "Settings a running migration accepts: chunk-time=…, max-lag=….");
          }
          if (value != "default") CheckValue(key, value).ThrowIfError();
          pairs.emplace_back(key, value);
        }
        pg::Connection conn = Connect(global);
        for (const auto& [key, value] : pairs) {
          if (value == "default") {
            monitor::ClearControl(conn, global.schema, key);
            Report(global, key, "default",
                   fmt::format("{} of schema \"{}\" is back to its command-line value", key,
                               global.schema));
          } else {
            monitor::SetControl(conn, global.schema, key, value).ThrowIfError();
            Report(global, key, value,
                   fmt::format("set {}={} for the migration of schema \"{}\"", key, value,
                               global.schema));
          }
        }
      });
    }};

}  // namespace
}  // namespace zerodown::cli
