// The per-file facts rules share: which explicit transaction each statement is in, whether a
// lock_timeout is in force, which tables the file creates, and the table lock each statement
// takes. Lock levels follow the PostgreSQL 15 documentation of ALTER TABLE and "Explicit
// Locking": ACCESS EXCLUSIVE unless a form is documented lower.
#include <algorithm>

#include "sql/rules/rule.hpp"

namespace zerodown::sql::rules {
namespace {

// The lock one ALTER TABLE subcommand takes; the statement takes the strongest of its commands.
LockLevel AlterTableCommandLock(const Json& cmd) {
  const std::string subtype = GetString(cmd, "subtype");
  if (subtype == "AT_ValidateConstraint" || subtype == "AT_SetStatistics" ||
      subtype == "AT_SetOptions" || subtype == "AT_ResetOptions" || subtype == "AT_ClusterOn" ||
      subtype == "AT_DropCluster") {
    return LockLevel::kShareUpdateExclusive;
  }
  if (subtype == "AT_AddConstraint" &&
      GetString(Get(Get(cmd, "def"), "Constraint"), "contype") == "CONSTR_FOREIGN") {
    // Since 9.5; it also takes SHARE ROW EXCLUSIVE on the referenced table.
    return LockLevel::kShareRowExclusive;
  }
  if (subtype.rfind("AT_EnableTrig", 0) == 0 || subtype.rfind("AT_DisableTrig", 0) == 0) {
    return LockLevel::kShareRowExclusive;
  }
  return LockLevel::kAccessExclusive;
}

// DROP TABLE / INDEX / VIEW / MATERIALIZED VIEW; nothing for other objects.
StatementLock DropLock(const Json& node) {
  const std::string type = GetString(node, "removeType");
  if (type != "OBJECT_TABLE" && type != "OBJECT_INDEX" && type != "OBJECT_VIEW" &&
      type != "OBJECT_MATVIEW") {
    return {};
  }
  const Json& objects = Get(node, "objects");
  std::string name = objects.is_array() && !objects.empty()
                         ? QualifiedName(Get(Get(objects[0], "List"), "items"))
                         : std::string();
  if (type == "OBJECT_INDEX") name = "the table of index " + name;
  return {
      GetBool(node, "concurrent") ? LockLevel::kShareUpdateExclusive : LockLevel::kAccessExclusive,
      name};
}

// VACUUM FULL rewrites the table; a plain VACUUM lets reads and writes go on.
StatementLock VacuumLock(const Json& node) {
  const bool full = HasOption(Get(node, "options"), "full");
  const Json& rels = Get(node, "rels");
  std::string table = rels.is_array() && !rels.empty()
                          ? RelationName(Get(Get(rels[0], "VacuumRelation"), "relation"))
                          : std::string();
  return {full ? LockLevel::kAccessExclusive : LockLevel::kShareUpdateExclusive, table};
}

StatementLock LockOf(const Statement& statement) {
  const Json& node = Inner(statement.node);
  const std::string& kind = statement.kind;
  if (kind == "AlterTableStmt") {
    LockLevel level = LockLevel::kNone;
    for (const Json* cmd : AlterTableCommands(statement.node)) {
      level = std::max(level, AlterTableCommandLock(*cmd));
    }
    return {level, RelationName(Get(node, "relation"))};
  }
  if (kind == "IndexStmt") {
    return {GetBool(node, "concurrent") ? LockLevel::kShareUpdateExclusive : LockLevel::kShare,
            RelationName(Get(node, "relation"))};
  }
  if (kind == "ReindexStmt") {
    const bool concurrent = HasOption(Get(node, "params"), "concurrently");
    return {concurrent ? LockLevel::kShareUpdateExclusive : LockLevel::kShare,
            RelationName(Get(node, "relation"))};
  }
  if (kind == "RenameStmt")
    return {LockLevel::kAccessExclusive, RelationName(Get(node, "relation"))};
  if (kind == "DropStmt") return DropLock(node);
  if (kind == "VacuumStmt") return VacuumLock(node);
  if (kind == "ClusterStmt")
    return {LockLevel::kAccessExclusive, RelationName(Get(node, "relation"))};
  if (kind == "TruncateStmt") {
    const Json& rels = Get(node, "relations");
    return {LockLevel::kAccessExclusive,
            rels.is_array() && !rels.empty() ? RelationName(Get(rels[0], "RangeVar")) : ""};
  }
  if (kind == "LockStmt") {
    const Json& rels = Get(node, "relations");
    return {static_cast<LockLevel>(std::clamp(GetInt(node, "mode", 8), 1, 8)),
            rels.is_array() && !rels.empty() ? RelationName(Get(rels[0], "RangeVar")) : ""};
  }
  if (kind == "CreateTrigStmt") {
    return {LockLevel::kShareRowExclusive, RelationName(Get(node, "relation"))};
  }
  return {};
}

// The value of a `SET lock_timeout` argument in force: false for 0 / '0' / DEFAULT.
bool NonZeroTimeout(const Json& set_node) {
  const Json& args = Get(set_node, "args");
  if (!args.is_array() || args.empty()) return false;
  const Json& constant = Get(args[0], "A_Const");
  const Json& ival = Get(Get(constant, "ival"), "ival");
  if (Get(constant, "ival").is_object()) return ival.is_number_integer() && ival.get<int>() != 0;
  const std::string text = GetString(Get(constant, "sval"), "sval");
  return !text.empty() && text.find_first_not_of("0 ") != std::string::npos &&
         text.rfind("0", 0) != 0;
}

}  // namespace

std::string_view LockName(LockLevel level) {
  switch (level) {
    case LockLevel::kNone:
      return "no";
    case LockLevel::kAccessShare:
      return "ACCESS SHARE";
    case LockLevel::kRowShare:
      return "ROW SHARE";
    case LockLevel::kRowExclusive:
      return "ROW EXCLUSIVE";
    case LockLevel::kShareUpdateExclusive:
      return "SHARE UPDATE EXCLUSIVE";
    case LockLevel::kShare:
      return "SHARE";
    case LockLevel::kShareRowExclusive:
      return "SHARE ROW EXCLUSIVE";
    case LockLevel::kExclusive:
      return "EXCLUSIVE";
    case LockLevel::kAccessExclusive:
      return "ACCESS EXCLUSIVE";
  }
  return "unknown";
}

std::string_view LockBlocks(LockLevel level) {
  switch (level) {
    case LockLevel::kAccessExclusive:
      return "blocks every read and write of the table";
    case LockLevel::kExclusive:
      return "blocks every write and SELECT ... FOR UPDATE/SHARE of the table";
    case LockLevel::kShareRowExclusive:
    case LockLevel::kShare:
      return "blocks INSERT, UPDATE and DELETE on the table (reads go on)";
    case LockLevel::kShareUpdateExclusive:
      return "blocks other schema changes, VACUUM and ANALYZE (reads and writes go on)";
    default:
      return "blocks little";
  }
}

LintContext::LintContext(const ParsedFile& file, const LintOptions& options,
                         const KnownSchema& known)
    : file_(file), options_(options), known_(known) {
  facts_.reserve(file.statements.size());
  int transaction = -1;
  bool session_timeout = false;
  bool local_timeout = false;
  for (std::size_t i = 0; i < file.statements.size(); ++i) {
    const Statement& statement = file.statements[i];
    const Json& node = Inner(statement.node);
    StatementFacts facts;
    facts.statement = &statement;
    if (statement.kind == "TransactionStmt") {
      const std::string kind = GetString(node, "kind");
      if (kind == "TRANS_STMT_BEGIN" || kind == "TRANS_STMT_START") {
        transaction = static_cast<int>(i);
      } else if (kind == "TRANS_STMT_COMMIT" || kind == "TRANS_STMT_ROLLBACK" ||
                 kind == "TRANS_STMT_PREPARE") {
        transaction = -1;
        local_timeout = false;  // SET LOCAL ends with its transaction
      }
    } else if (statement.kind == "VariableSetStmt" && GetString(node, "name") == "lock_timeout") {
      const bool on = GetString(node, "kind") == "VAR_SET_VALUE" && NonZeroTimeout(node);
      if (GetBool(node, "is_local")) {
        local_timeout = on && transaction >= 0;
      } else {
        session_timeout = on;
      }
    } else if (statement.kind == "CreateStmt") {
      created_.emplace(RelationName(Get(node, "relation")), i);
    }
    facts.transaction = transaction;
    facts.lock_timeout_set = session_timeout || local_timeout;
    facts.lock = LockOf(statement);
    facts.columns = ColumnSites(statement);
    if (facts.lock.level != LockLevel::kNone && CreatedBefore(facts.lock.table, i)) {
      facts.lock = {};
    }
    facts_.push_back(facts);
  }
}

bool LintContext::CreatedBefore(const std::string& table, std::size_t index) const {
  auto it = created_.find(table);
  return it != created_.end() && it->second < index;
}

void Reporter::Add(const Statement& statement, int location, std::string message, std::string fix) {
  Add(info_.severity, statement, location, std::move(message), std::move(fix));
}

void Reporter::Add(Severity severity, const Statement& statement, int location, std::string message,
                   std::string fix) {
  Finding finding;
  finding.rule_id = info_.id;
  finding.severity = severity;
  finding.file = context_.file().path;
  Position position = statement.start;
  if (location >= 0 && static_cast<std::size_t>(location) >= statement.begin &&
      static_cast<std::size_t>(location) < statement.end) {
    position = context_.file().lines->At(static_cast<std::size_t>(location));
  }
  finding.line = position.line;
  finding.column = position.column;
  finding.message = std::move(message);
  finding.fix = std::move(fix);
  out_.push_back({&statement, std::move(finding)});
}

}  // namespace zerodown::sql::rules
