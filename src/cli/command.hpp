// The command-line front end: each command lives in its own file and registers itself here, so a
// new command is one new file. Commands parse flags with CLI11 and call the library; they hold no
// migration logic of their own.
#pragma once

#include <CLI/CLI.hpp>
#include <functional>
#include <string>
#include <vector>

namespace zerodown::cli {

// Options every command shares. Connection settings follow psql: a URL or conninfo string, or
// the PG* environment variables and ~/.pgpass when --postgres-url is empty.
struct GlobalOptions {
  std::string postgres_url;
  std::string schema = "public";
  bool json = false;
  int lock_timeout_ms = 500;
  bool verbose = false;
  // --max-file-size: "" keeps the per-format defaults (cli/file_limit.hpp).
  std::string max_file_size;
};

// A command's setup: add the subcommand to `app`, bind its flags, and set a callback that runs it.
// The callback reports failure by throwing zerodown::Error or CommandExit.
using CommandSetup = std::function<void(CLI::App& app, GlobalOptions& global)>;

// Thrown by a command callback to end with a specific exit code after printing its own output.
struct CommandExit {
  int code;
};

// Registers a command at static-initialisation time. `order` sorts commands in `--help`.
struct CommandRegistration {
  CommandRegistration(int order, CommandSetup setup);
};

struct RegisteredCommand {
  int order;
  CommandSetup setup;
};
std::vector<RegisteredCommand>& CommandRegistry();

}  // namespace zerodown::cli
