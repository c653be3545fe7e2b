// Linting plain SQL migrations: what in a file would take a lock that stalls a live application,
// rewrite or scan a table under that lock, or break the application version that is still
// running, and the safe form of each. It needs no database: rules reason from the SQL, the target
// PostgreSQL version and, when the caller read them from the server (--postgres-url), the current
// column types and domains. It does not print (see report.hpp), connect or change anything.
#pragma once

#include <map>
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <vector>

#include "zerodown/common/error.hpp"
#include "zerodown/sql/parse.hpp"

namespace zerodown::sql {

// Ordered: a finding "at or above" a threshold compares with >=.
enum class Severity { kInfo = 0, kWarning = 1, kError = 2 };

std::string_view SeverityName(Severity severity);  // "info", "warning", "error"
// Parses "info" / "warning" / "error"; nullopt for anything else.
std::optional<Severity> ParseSeverity(std::string_view name);

// One problem in one statement.
struct Finding {
  std::string rule_id;  // e.g. "require-concurrent-index"
  Severity severity = Severity::kError;
  std::string file;
  int line = 1;         // 1-based
  int column = 1;       // 1-based, in characters
  std::string message;  // what it does: the lock level, what that blocks, for how long
  std::string fix;      // the safe rewrite, as SQL where there is one
};

// What a rule is, for --help, the docs and SARIF.
struct RuleInfo {
  std::string id;
  Severity severity = Severity::kError;
  std::string summary;  // one line
};

// What the target database holds before the migration runs, as read from its catalog. With it,
// an ALTER COLUMN TYPE is judged against the column's real current type (exact), and ADD COLUMN of
// a domain type knows whether the domain has constraints.
struct DatabaseSchema {
  struct Column {
    std::string schema;  // unquoted names, as in pg_namespace / pg_class / pg_attribute
    std::string table;
    std::string column;
    std::string type;  // format_type(atttypid, atttypmod): "character varying(20)"
  };
  std::vector<Column> columns;
  // Domains with a CHECK or NOT NULL (unquoted name, schema-qualified outside `schema`) -> base
  // type as format_type prints it.
  std::map<std::string, std::string> constrained_domains;
  std::string schema = "public";  // unqualified names in the migration resolve here
};

struct LintOptions {
  int pg_version = 15;                     // major version of the target server, 9..17
  std::set<std::string> exclude;           // rule ids not to run
  std::optional<DatabaseSchema> database;  // read with --postgres-url; nullopt: SQL alone
};

// Every rule zerodown knows, in registry order.
std::vector<RuleInfo> ListRules();
// True when `id` names a rule.
bool IsKnownRule(std::string_view id);

// Runs every rule not excluded on a parsed file. Findings are in file order; those silenced by a
// `-- zerodown-ignore: rule-id` comment are left out.
std::vector<Finding> Lint(const ParsedFile& file, const LintOptions& options);

// Lints several files in migration order and carries what earlier files define into later ones:
// the column types that 001_create.sql declares tell 004_alter.sql whether its ALTER COLUMN TYPE
// is binary-coercible. Not thread-safe; one per run.
class Linter {
 public:
  explicit Linter(LintOptions options);
  ~Linter();
  Linter(const Linter&) = delete;
  Linter& operator=(const Linter&) = delete;

  // Lints one file (as Lint above) and then records the columns it defines.
  std::vector<Finding> Lint(const ParsedFile& file);

 private:
  struct State;
  LintOptions options_;
  std::unique_ptr<State> state_;
};

// Parses and lints `text`. A syntax error is returned as the Error (kInvalidMigration, where()
// = "path:line:column").
Result<std::vector<Finding>> LintSql(std::string path, std::string text,
                                     const LintOptions& options);

// True when some finding has severity >= `threshold`.
bool HasFindingAtOrAbove(const std::vector<Finding>& findings, Severity threshold);

}  // namespace zerodown::sql
