// What the engine commands share: connecting as the global options say, rendering progress on a
// terminal, as plain lines or as JSON events, and the engine's tuning flags.
#pragma once

#include <memory>
#include <string>

#include "cli/command.hpp"
#include "zerodown/engine/engine.hpp"
#include "zerodown/model/operations.hpp"
#include "zerodown/pg/connection.hpp"

namespace zerodown::cli {

pg::Connection Connect(const GlobalOptions& global);

// Flags of the commands that change the schema.
struct EngineFlags {
  int chunk_time_ms = 50;
  int max_lock_attempts = 50;
  bool no_wait = false;
};
void AddEngineFlags(CLI::App* command, EngineFlags& flags);
engine::EngineOptions MakeEngineOptions(const GlobalOptions& global, const EngineFlags& flags);

// Progress on stderr: a live line on a terminal, one line per event otherwise, JSON events with
// --json.
std::unique_ptr<engine::ProgressSink> MakeProgress(const GlobalOptions& global);

// Reads a .yaml/.yml/.json migration, or translates a .sql file into operations (statements
// with no online form are refused unless `allow_blocking`).
model::Migration LoadMigration(const std::string& path, bool allow_blocking = false);
// Whether `path` names a migration file zerodown reads.
bool IsMigrationFile(const std::string& path);

}  // namespace zerodown::cli
