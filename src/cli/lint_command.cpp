// `zerodown lint`: what in plain SQL migrations would lock or break a live application, and the
// safe form. Reads files (or stdin); with --postgres-url it also reads the current column types
// and domains from the server (read-only), so type changes are judged exactly.
#include <filesystem>
#include <iostream>
#include <set>
#include <string>
#include <vector>

#include "cli/command.hpp"
#include "cli/file_limit.hpp"
#include "zerodown/common/error.hpp"
#include "zerodown/pg/column_types.hpp"
#include "zerodown/pg/connection.hpp"
#include "zerodown/sql/config.hpp"
#include "zerodown/sql/lint.hpp"
#include "zerodown/sql/parse.hpp"
#include "zerodown/sql/report.hpp"

namespace zerodown::cli {
namespace {

struct LintFlags {
  std::vector<std::string> files;
  std::string format = "text";
  int pg_version = 15;
  std::vector<std::string> exclude;
  std::string fail_on = "error";
  std::string config;
  bool list_rules = false;
};

constexpr const char* kFooter =
    "Exit codes: 0 no finding at or above --fail-on; 1 some finding at or above it;\n"
    "2 a file does not parse (file:line:col on stderr) or bad usage.\n\n"
    "Silence one statement with a comment on the line before it or at its end:\n"
    "  -- zerodown-ignore: require-concurrent-index, prefer-text\n\n"
    "Examples:\n"
    "  zerodown lint migrations/004_add_index.sql\n"
    "  zerodown lint --pg-version 11 migrations/*.sql      # files lint in the order given\n"
    "  cat 004.sql | zerodown lint -                       # read standard input\n"
    "  zerodown lint --format sarif migrations/ > lint.sarif\n"
    "  zerodown lint --format github --fail-on warning migrations/*.sql\n"
    "  zerodown lint --exclude prefer-text,prefer-identity 004.sql\n"
    "  zerodown --postgres-url postgres:///shop lint 004.sql  # current types from the server\n"
    "  zerodown lint --list-rules\n\n"
    "Rules, with why and a bad and a good example each: docs/lint-rules.md";

// Files named on the command line; a directory stands for its *.sql files in name order.
std::vector<std::string> ExpandPaths(const std::vector<std::string>& paths) {
  std::vector<std::string> out;
  for (const auto& path : paths) {
    std::error_code ec;
    if (path != "-" && std::filesystem::is_directory(path, ec)) {
      std::set<std::string> sql;
      for (const auto& entry : std::filesystem::directory_iterator(path, ec)) {
        if (entry.path().extension() == ".sql") sql.insert(entry.path().string());
      }
      out.insert(out.end(), sql.begin(), sql.end());
    } else {
      out.push_back(path);
    }
  }
  return out;
}

// The tables' column types and the constrained domains as the server holds them now. Reads the
// catalog only, in two queries.
sql::DatabaseSchema ReadDatabaseSchema(const GlobalOptions& global, int* server_major) {
  pg::Connection conn = pg::Connection::Open(global.postgres_url, "zerodown-lint");
  *server_major = conn.ServerVersionNum() / 10000;
  sql::DatabaseSchema database;
  database.schema = global.schema;
  for (auto& column : pg::AllColumnTypes(conn)) {
    database.columns.push_back({std::move(column.schema), std::move(column.table),
                                std::move(column.column), std::move(column.type)});
  }
  for (auto& [name, base] : pg::ConstrainedDomains(conn, global.schema)) {
    database.constrained_domains.emplace(std::move(name), std::move(base));
  }
  return database;
}

Result<sql::LintConfig> FindConfig(const std::string& explicit_path) {
  if (!explicit_path.empty()) return sql::LoadLintConfig(explicit_path);
  std::error_code ec;
  if (std::filesystem::exists(sql::kLintConfigFileName, ec)) {
    return sql::LoadLintConfig(sql::kLintConfigFileName);
  }
  return sql::LintConfig{};
}

void ListRules() {
  for (const auto& rule : sql::ListRules()) {
    std::cout << rule.id << " (" << sql::SeverityName(rule.severity) << "): " << rule.summary
              << "\n";
  }
}

// The flags over the config file: the PostgreSQL version (the flag, the file's, the server's,
// 15), the rules left out, and the severity that fails the command.
sql::LintOptions Options(const LintFlags& flags, const CLI::App& cmd, const GlobalOptions& global,
                         const sql::LintConfig& config) {
  sql::LintOptions options;
  options.pg_version =
      cmd.count("--pg-version") > 0 ? flags.pg_version : config.pg_version.value_or(15);
  if (!global.postgres_url.empty()) {
    int server_major = 0;
    options.database = ReadDatabaseSchema(global, &server_major);
    // The server's own version, unless the user names the one the migration targets.
    if (cmd.count("--pg-version") == 0 && !config.pg_version) options.pg_version = server_major;
  }
  options.exclude = config.exclude;
  for (const auto& id : flags.exclude) {
    if (!sql::IsKnownRule(id)) {
      throw Error(ErrorKind::kUsage, "--exclude names unknown rule '" + id + "'",
                  "zerodown lint --list-rules lists the rule ids");
    }
    options.exclude.insert(id);
  }
  return options;
}

sql::Severity FailOn(const LintFlags& flags, const CLI::App& cmd, const sql::LintConfig& config) {
  if (cmd.count("--fail-on") > 0) return *sql::ParseSeverity(flags.fail_on);
  return config.fail_on.value_or(sql::Severity::kError);
}

// Lints every file, appending to `findings`; a file too large or that does not parse is
// reported on stderr and makes the result false.
bool LintFiles(const LintFlags& flags, const GlobalOptions& global, sql::Linter& linter,
               std::vector<sql::Finding>& findings) {
  // The parse trees live until the process exits: freeing them one node at a time costs about a
  // tenth of a large file's lint time, and the process is about to end anyway.
  // A static pointer keeps them reachable, so LeakSanitizer does not count them as leaked.
  static auto* keep = new std::vector<sql::ParsedFile>();
  bool all_parsed = true;
  for (const auto& path : ExpandPaths(flags.files)) {
    try {
      CheckFileSize(global, path);
    } catch (const Error& error) {
      std::cerr << path << ": error: " << error.message() << "\n  fix: " << error.fix() << "\n";
      all_parsed = false;
      continue;
    }
    auto parsed = sql::ParseSqlFile(path);
    if (!parsed.ok()) {
      const Error& error = parsed.error();
      // file:line:col first, as compilers print it, so editors can jump to it.
      std::cerr << (error.where().empty() ? path : error.where()) << ": error: " << error.message()
                << "\n";
      all_parsed = false;
      continue;
    }
    auto file_findings = linter.Lint(*parsed);
    findings.insert(findings.end(), std::make_move_iterator(file_findings.begin()),
                    std::make_move_iterator(file_findings.end()));
    keep->push_back(std::move(parsed).value());
  }
  return all_parsed;
}

int Run(const LintFlags& flags, const CLI::App& cmd, const GlobalOptions& global) {
  if (flags.list_rules) {
    ListRules();
    return 0;
  }
  if (flags.files.empty()) {
    throw Error(ErrorKind::kUsage, "lint needs at least one FILE (or - for standard input)",
                "zerodown lint migrations/004.sql");
  }
  sql::LintConfig config = FindConfig(flags.config).ValueOrThrow();
  sql::LintOptions options = Options(flags, cmd, global, config);
  sql::Severity fail_on = FailOn(flags, cmd, config);
  const std::string format_name =
      global.json && cmd.count("--format") == 0 ? std::string("json") : flags.format;
  const sql::ReportFormat format = *sql::ParseReportFormat(format_name);

  sql::Linter linter(options);
  std::vector<sql::Finding> findings;
  bool failed_to_parse = !LintFiles(flags, global, linter, findings);
  // "no findings" would read as a pass when a file did not parse.
  if (!(failed_to_parse && findings.empty() && format == sql::ReportFormat::kText)) {
    std::cout << sql::Render(format, findings);
  }
  if (failed_to_parse) return 2;
  return sql::HasFindingAtOrAbove(findings, fail_on) ? 1 : 0;
}

const CommandRegistration kRegistration{
    20, [](CLI::App& app, GlobalOptions& global) {
      auto flags = std::make_shared<LintFlags>();
      auto* cmd = app.add_subcommand(
          "lint",
          "Report what in plain SQL migrations would lock or break a live application (the lock "
          "level, what it blocks) and the safe rewrite. Needs no database; with --postgres-url "
          "the current column types decide whether a type change rewrites.");
      cmd->footer(kFooter);
      cmd->add_option("files", flags->files,
                      "SQL files, directories (their *.sql in name order) or - for standard input");
      cmd->add_option("--format", flags->format,
                      "output: text, json, sarif (SARIF 2.1.0) or github")
          ->check(CLI::IsMember({"text", "json", "sarif", "github"}))
          ->capture_default_str();
      cmd->add_option("--pg-version", flags->pg_version,
                      "major version of the target PostgreSQL server (rules differ by version)")
          ->check(CLI::Range(9, 17))
          ->capture_default_str();
      cmd->add_option("--exclude", flags->exclude, "rule ids not to run, comma-separated")
          ->delimiter(',')
          ->allow_extra_args(false);
      cmd->add_option("--fail-on", flags->fail_on,
                      "exit 1 when a finding of this severity or higher exists")
          ->check(CLI::IsMember({"error", "warning", "info"}))
          ->capture_default_str();
      cmd->add_option("--config", flags->config,
                      "lint configuration file (default: ./.zerodown-lint.yaml when present)");
      cmd->add_flag("--list-rules", flags->list_rules, "print every rule id with its severity");
      cmd->callback([flags, cmd, &global] { throw CommandExit{Run(*flags, *cmd, global)}; });
    }};

}  // namespace
}  // namespace zerodown::cli
