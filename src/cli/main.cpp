#include <algorithm>
#include <cstdio>
#include <iostream>

#include "cli/command.hpp"
#include "zerodown/common/error.hpp"

namespace zerodown::cli {

std::vector<RegisteredCommand>& CommandRegistry() {
  static std::vector<RegisteredCommand> registry;
  return registry;
}

CommandRegistration::CommandRegistration(int order, CommandSetup setup) {
  CommandRegistry().push_back({order, std::move(setup)});
}

namespace {

int Run(int argc, char** argv) {
  CLI::App app{
      "zerodown changes the schema of a live PostgreSQL database without downtime: old and new\n"
      "application versions keep working while the change runs, no query waits behind a lock\n"
      "for longer than --lock-timeout, and `rollback` is lossless until `complete`.\n\n"
      "Examples:\n"
      "  zerodown init --postgres-url postgres://app@db/shop\n"
      "  zerodown lint migrations/004.sql\n"
      "  zerodown start migrations/004.yaml   # expand: both versions work\n"
      "  zerodown complete                    # contract: old version goes away\n"
      "  zerodown rollback                    # or go back, losing nothing\n",
      "zerodown"};
  app.set_version_flag("--version", std::string("zerodown ") + ZERODOWN_VERSION);
  app.require_subcommand(1);
  app.fallthrough();

  GlobalOptions global;
  app.add_option("--postgres-url", global.postgres_url,
                 "libpq URL or conninfo (default: PG* environment variables, as psql)")
      ->envname("ZERODOWN_POSTGRES_URL");
  app.add_option("--schema", global.schema, "schema the migrations apply to")
      ->capture_default_str();
  app.add_option("--lock-timeout", global.lock_timeout_ms,
                 "milliseconds any DDL may wait for its lock before it backs off and retries")
      ->capture_default_str()
      ->check(CLI::Range(1, 60000));
  app.add_flag("--json", global.json, "print machine-readable JSON");
  app.add_option("--max-file-size", global.max_file_size,
                 "largest migration or SQL file zerodown parses, e.g. 64MB (default 4MB for "
                 ".yaml/.json, 1MB for .sql; parsing takes 30-300 bytes of memory per byte)");
  app.add_flag("-v,--verbose", global.verbose, "print every SQL statement zerodown runs");

  auto& registry = CommandRegistry();
  std::stable_sort(registry.begin(), registry.end(),
                   [](const auto& a, const auto& b) { return a.order < b.order; });
  for (auto& command : registry) command.setup(app, global);

  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    return app.exit(e) == 0 ? 0 : 2;
  }
  return 0;
}

}  // namespace
}  // namespace zerodown::cli

int main(int argc, char** argv) {
  try {
    return zerodown::cli::Run(argc, argv);
  } catch (const zerodown::cli::CommandExit& exit) {
    return exit.code;
  } catch (const zerodown::Error& error) {
    std::cerr << "zerodown: " << error.Describe() << "\n";
    return zerodown::ExitCode(error.kind());
  } catch (const std::exception& e) {
    std::cerr << "zerodown: internal error: " << e.what()
              << ". This is a bug; please report it with the command you ran.\n";
    return 1;
  }
}
