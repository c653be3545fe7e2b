// The lint rule interface, the facts about a file that several rules share (transactions,
// lock_timeout, tables created in the file, lock levels), and helpers to read libpg_query's JSON
// parse tree. Internal to src/sql; the public API is zerodown/sql/lint.hpp.
#pragma once

#include <map>
#include <memory>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "zerodown/sql/lint.hpp"
#include "zerodown/sql/parse.hpp"

namespace zerodown::sql::rules {

using Json = nlohmann::json;

// PostgreSQL table lock modes, numbered as in LOCK TABLE's parse tree (lockdefs.h).
enum class LockLevel {
  kNone = 0,
  kAccessShare = 1,
  kRowShare = 2,
  kRowExclusive = 3,
  kShareUpdateExclusive = 4,
  kShare = 5,
  kShareRowExclusive = 6,
  kExclusive = 7,
  kAccessExclusive = 8,
};

// "ACCESS EXCLUSIVE"
std::string_view LockName(LockLevel level);
// "blocks every read and write of the table", for messages.
std::string_view LockBlocks(LockLevel level);

// A column type as written: the last name component ("int4", "varchar", "serial"),
// its modifiers (varchar(20) -> {20}; numeric(10,2) -> {10, 2}), whether it is an array.
struct TypeRef {
  std::string name;
  std::vector<int> mods;
  bool array = false;
  std::string Display() const;  // "varchar(20)", "numeric(10,2)", "bigint"
};
// A column as a statement defines or retypes it: CREATE TABLE columns, ALTER TABLE ... ADD
// COLUMN and ALTER COLUMN ... TYPE.
struct ColumnSite {
  enum class Kind { kCreateTable, kAddColumn, kAlterType };
  Kind kind = Kind::kCreateTable;
  std::string table;
  std::string column;
  TypeRef type;
  int location = -1;                 // of the type name
  const Json* definition = nullptr;  // the inner ColumnDef
  const Json* command = nullptr;     // the inner AlterTableCmd, for ADD COLUMN / ALTER TYPE
  bool primary_key = false;          // PRIMARY KEY on the column or naming it in the table
};
// The strongest table lock a statement takes on an existing table, and which table.
struct StatementLock {
  LockLevel level = LockLevel::kNone;
  std::string table;  // as written, schema-qualified when it was
};

// What the linter knows about one statement in the context of its file.
struct StatementFacts {
  const Statement* statement = nullptr;
  int transaction = -1;           // index of the explicit BEGIN it is inside, -1 when none
  bool lock_timeout_set = false;  // a non-zero `SET lock_timeout` is in force
  StatementLock lock;             // kNone for tables created earlier in the file
  std::vector<ColumnSite>
      columns;  // the columns it defines or retypes (ColumnSites), computed once
};

// The statement as written with the type of the column at `site` replaced by `replacement` (which
// may carry clauses, e.g. "bigint GENERATED ALWAYS AS IDENTITY"), ending in ';': a rewrite the
// user can paste. Where the type cannot be found in the statement's text, the column definition
// alone ("col" replacement).
std::string WithColumnType(const StatementFacts& facts, const ColumnSite& site,
                           std::string_view replacement);

// Column types the linter has seen defined: "table.column" -> type.
using ColumnTypes = std::map<std::string, TypeRef, std::less<>>;

// A domain the linter has seen. One with a CHECK or NOT NULL makes adding a column of it evaluate
// the constraints for every existing row.
struct ConstrainedDomain {
  std::string base_type;    // "integer", for the rewrite's plain column
  std::string check;        // the CHECK's SQL with VALUE in it, "" when unknown or NOT NULL only
  bool constrained = true;  // false for a domain created without constraints
};

// What the linter knows about the database before a file: the column types and constrained
// domains that earlier files define, and, with --postgres-url, those the server holds.
struct KnownSchema {
  ColumnTypes columns;
  std::map<std::string, ConstrainedDomain, std::less<>> domains;  // by (quoted) name
  bool from_database = false;  // the catalog was read: an unlisted domain has no constraint
};

// The schema the server holds (LintOptions::database) as the linter keys it.
KnownSchema SeedKnownSchema(const LintOptions& options);
// Records what `statement` defines: column types (CREATE TABLE, ADD COLUMN, ALTER COLUMN TYPE) and
// domains with constraints (CREATE DOMAIN, ALTER DOMAIN ADD CONSTRAINT).
void RecordDefinitions(const Statement& statement, KnownSchema& known);

class LintContext {
 public:
  // `known` holds the column types defined by files linted before this one (migrations run in
  // order, so 001_create.sql tells 004_alter.sql what type a column has); it must outlive this.
  LintContext(const ParsedFile& file, const LintOptions& options, const KnownSchema& known);
  const ColumnTypes& known_columns() const { return known_.columns; }
  const KnownSchema& known() const { return known_; }

  const ParsedFile& file() const { return file_; }
  int pg_version() const { return options_.pg_version; }
  const std::vector<StatementFacts>& statements() const { return facts_; }
  bool InTransaction(std::size_t index) const { return facts_[index].transaction >= 0; }

  // True when a CREATE TABLE for `table` comes before statement `index`: such a table is new and
  // empty and no running application uses it yet, so locking or rewriting it costs nothing.
  bool CreatedBefore(const std::string& table, std::size_t index) const;

 private:
  const ParsedFile& file_;
  const LintOptions& options_;
  const KnownSchema& known_;
  std::vector<StatementFacts> facts_;
  std::map<std::string, std::size_t> created_;  // table -> index of its CREATE TABLE
};

// A finding and the statement it is about (ignore comments apply per statement).
struct RawFinding {
  const Statement* statement = nullptr;
  Finding finding;
};

// Collects one rule's findings with the rule's id and severity filled in.
class Reporter {
 public:
  Reporter(const LintContext& context, const RuleInfo& info, std::vector<RawFinding>& out)
      : context_(context), info_(info), out_(out) {}

  // A finding at byte `location` (a parse-tree "location"), or at the statement's start when
  // `location` is negative or outside the statement.
  void Add(const Statement& statement, int location, std::string message, std::string fix);
  // The same with an explicit severity (rules whose severity depends on the case).
  void Add(Severity severity, const Statement& statement, int location, std::string message,
           std::string fix);

 private:
  const LintContext& context_;
  const RuleInfo& info_;
  std::vector<RawFinding>& out_;
};

class Rule {
 public:
  virtual ~Rule() = default;
  virtual const RuleInfo& Info() const = 0;
  // Appends findings for the whole file (rules that need the statements before a statement, such
  // as an earlier CHECK or SET lock_timeout, read them from the context).
  virtual void Check(const LintContext& context, Reporter& reporter) const = 0;
};

// Calls visit(statement, table, command) for every ALTER TABLE subcommand (inner AlterTableCmd)
// on a table that the file did not create earlier. Rules about ALTER TABLE forms start here.
template <typename Visit>
void ForEachAlterOfExistingTable(const LintContext& context, Visit&& visit);

// Calls visit(statement, table, node) for every RenameStmt (inner node) whose renameType is
// `type` (OBJECT_COLUMN, OBJECT_TABLE) on a table that the file did not create earlier.
template <typename Visit>
void ForEachRenameOnExistingTable(const LintContext& context, std::string_view type, Visit&& visit);

// Every rule, in registry order (registry.cpp: one line per rule).
const std::vector<std::unique_ptr<Rule>>& Registry();

// ---- Parse-tree helpers -------------------------------------------------------------------

// The inner object of a one-key node ({"IndexStmt": {...}} -> {...}), or null JSON.
const Json& Inner(const Json& node);
// The node type name of a one-key node ("IndexStmt"), or "".
std::string_view NodeType(const Json& node);
// node[key] when present, else a null JSON (never inserts).
const Json& Get(const Json& node, std::string_view key);
std::string GetString(const Json& node, std::string_view key);
bool GetBool(const Json& node, std::string_view key);
int GetInt(const Json& node, std::string_view key, int fallback = 0);
// True when a DefElem list (VACUUM / REINDEX options) has an option named `name`.
bool HasOption(const Json& list, std::string_view name);
// The "location" of a node (wrapped or inner), or -1.
int LocationOf(const Json& node);

// "schema.table" or "table" from a RangeVar (inner object), quoted where needed.
std::string RelationName(const Json& range_var);
// A String node list (["pg_catalog", "int4"]) joined with '.'.
std::string JoinNames(const Json& names);
// A String node list naming an object, each part quoted where needed ("public"."Orders").
std::string QualifiedName(const Json& names);
// Double-quotes an identifier unless it is a plain lower-case name.
std::string QuoteIdent(std::string_view name);

std::optional<TypeRef> ReadType(const Json& type_name);  // TypeName inner object

// The ALTER TABLE subcommands (inner AlterTableCmd objects) of an AlterTableStmt statement.
std::vector<const Json*> AlterTableCommands(const Json& statement_node);
// The column definitions of a CREATE TABLE (inner ColumnDef objects).
std::vector<const Json*> CreateTableColumns(const Json& statement_node);
// The constraints of a ColumnDef (inner Constraint objects).
std::vector<const Json*> ColumnConstraints(const Json& column_def);

std::vector<ColumnSite> ColumnSites(const Statement& statement);
// Records the column types `statement` defines (CREATE TABLE, ADD COLUMN, ALTER COLUMN TYPE).
void RecordColumnTypes(const Statement& statement, ColumnTypes& types);

// The SQL of `statement` from byte `location` to its end ("" when outside the statement).
std::string_view TextFrom(const Statement& statement, int location);
// `sql` with `insertion` put after the first whole word `keyword` (case-insensitive), or `sql`
// unchanged when the word is absent. Used to show a statement with CONCURRENTLY added.
std::string InsertAfterWord(std::string_view sql, std::string_view keyword,
                            std::string_view insertion);
// A short SQL rendering of a simple expression (constants, casts, function calls, columns);
// "<expression>" for anything it does not know.
std::string ExpressionSql(const Json& expression);

// "rule-id" -> "`-- zerodown-ignore: rule-id`" advice appended to messages where the linter
// cannot know (a function's volatility, a column's current type).
std::string IgnoreHint(std::string_view rule_id);

template <typename Visit>
void ForEachAlterOfExistingTable(const LintContext& context, Visit&& visit) {
  for (std::size_t i = 0; i < context.statements().size(); ++i) {
    const Statement& statement = *context.statements()[i].statement;
    if (statement.kind != "AlterTableStmt") continue;
    const std::string table = RelationName(Get(Inner(statement.node), "relation"));
    if (context.CreatedBefore(table, i)) continue;
    for (const Json* command : AlterTableCommands(statement.node)) {
      visit(statement, table, *command);
    }
  }
}

template <typename Visit>
void ForEachRenameOnExistingTable(const LintContext& context, std::string_view type,
                                  Visit&& visit) {
  for (std::size_t i = 0; i < context.statements().size(); ++i) {
    const Statement& statement = *context.statements()[i].statement;
    if (statement.kind != "RenameStmt") continue;
    const Json& node = Inner(statement.node);
    if (GetString(node, "renameType") != type) continue;
    const std::string table = RelationName(Get(node, "relation"));
    if (context.CreatedBefore(table, i)) continue;
    visit(statement, table, node);
  }
}

}  // namespace zerodown::sql::rules
