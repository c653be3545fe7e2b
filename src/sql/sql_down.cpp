#include "zerodown/sql/sql_down.hpp"

#include <fmt/format.h>

#include <optional>
#include <variant>

#include "sql/rules/rule.hpp"
#include "zerodown/sql/parse.hpp"

namespace zerodown::sql {

namespace {

using rules::Get;
using rules::GetBool;
using rules::GetString;
using rules::Inner;
using rules::Json;
using rules::QualifiedName;
using rules::QuoteIdent;
using rules::RelationName;

// The statement that undoes one statement of `up`, or why there is none.
struct Inverse {
  std::optional<std::string> sql;
  std::string reason;
};

Inverse None(std::string reason) { return {std::nullopt, std::move(reason)}; }

// An object that existed before `up` ran and was left alone by IF NOT EXISTS would be dropped by
// the inverse: such a statement has none.
constexpr const char* kIfNotExists =
    "IF NOT EXISTS: the object may have existed before, and dropping it would lose it";

// ALTER TABLE … ADD COLUMN c / ADD CONSTRAINT name, each undone by its DROP; any other subcommand
// changes what was there before, which zerodown cannot know.
Inverse InverseOfAlterTable(const Statement& statement) {
  std::string table = RelationName(Get(Inner(statement.node), "relation"));
  std::vector<std::string> drops;
  for (const Json* cmd : rules::AlterTableCommands(statement.node)) {
    std::string subtype = GetString(*cmd, "subtype");
    const Json& def = Inner(Get(*cmd, "def"));
    if (GetBool(*cmd, "missing_ok")) return None(kIfNotExists);
    if (subtype == "AT_AddColumn") {
      drops.insert(drops.begin(), "DROP COLUMN " + QuoteIdent(GetString(def, "colname")));
    } else if (subtype == "AT_AddConstraint" && !GetString(def, "conname").empty()) {
      drops.insert(drops.begin(), "DROP CONSTRAINT " + QuoteIdent(GetString(def, "conname")));
    } else {
      return None("this ALTER TABLE changes what was there before, which zerodown cannot restore");
    }
  }
  if (drops.empty()) return None("it adds nothing zerodown can drop");
  std::string joined = drops.front();
  for (std::size_t i = 1; i < drops.size(); ++i) joined += ", " + drops[i];
  return {fmt::format("ALTER TABLE {} {}", table, joined), {}};
}

// A DROP of the object a CREATE statement names, for the statements that create one object.
Inverse InverseOfCreate(std::string_view kind, const Json& node) {
  if (GetBool(node, "if_not_exists")) return None(kIfNotExists);
  auto drop = [](std::string_view what, const std::string& name) {
    return Inverse{fmt::format("DROP {} {}", what, name), {}};
  };
  if (kind == "CreateStmt") return drop("TABLE", RelationName(Get(node, "relation")));
  if (kind == "CreateSeqStmt") return drop("SEQUENCE", RelationName(Get(node, "sequence")));
  if (kind == "CompositeTypeStmt") return drop("TYPE", RelationName(Get(node, "typevar")));
  if (kind == "CreateEnumStmt" || kind == "CreateRangeStmt") {
    return drop("TYPE", QualifiedName(Get(node, "typeName")));
  }
  if (kind == "CreateDomainStmt") return drop("DOMAIN", QualifiedName(Get(node, "domainname")));
  if (kind == "CreateSchemaStmt") return drop("SCHEMA", QuoteIdent(GetString(node, "schemaname")));
  if (kind == "CreateExtensionStmt") {
    return drop("EXTENSION", QuoteIdent(GetString(node, "extname")));
  }
  if (kind == "ViewStmt") {
    if (GetBool(node, "replace")) return None("OR REPLACE: the view it replaced is gone");
    return drop("VIEW", RelationName(Get(node, "view")));
  }
  if (kind == "CreateTableAsStmt") {
    const Json& into = Get(node, "into");
    bool matview = GetString(node, "objtype") == "OBJECT_MATVIEW";
    return drop(matview ? "MATERIALIZED VIEW" : "TABLE", RelationName(Get(into, "rel")));
  }
  if (kind == "IndexStmt") {
    std::string name = GetString(node, "idxname");
    if (name.empty()) return None("the index has no name to drop it by");
    std::string schema = GetString(Get(node, "relation"), "schemaname");
    std::string qualified = (schema.empty() ? "" : QuoteIdent(schema) + ".") + QuoteIdent(name);
    return drop(GetBool(node, "concurrent") ? "INDEX CONCURRENTLY" : "INDEX", qualified);
  }
  return None("zerodown knows no statement that undoes it");
}

Inverse InverseOf(const Statement& statement) {
  const Json& node = Inner(statement.node);
  if (statement.kind == "AlterTableStmt") {
    if (GetString(node, "objtype") != "OBJECT_TABLE") {
      return None("zerodown knows no statement that undoes it");
    }
    return InverseOfAlterTable(statement);
  }
  return InverseOfCreate(statement.kind, node);
}

std::string Shorten(std::string_view sql) {
  std::string one_line;
  for (char c : sql) one_line += (c == '\n' || c == '\t') ? ' ' : c;
  return one_line.size() > 80 ? one_line.substr(0, 77) + "..." : one_line;
}

// The statements of one `up` that stay, or (when `down` is set) the down that undoes all of them.
Result<std::vector<LeftBehind>> Analyse(std::size_t index, const std::string& up,
                                        std::optional<std::string>* down) {
  auto parsed = ParseSql(fmt::format("operation {} (sql), field up", index), up);
  if (!parsed.ok()) return parsed.error();
  std::vector<std::string> undo;
  std::vector<LeftBehind> left;
  std::string blocker;
  for (const Statement& statement : parsed.value().statements) {
    Inverse inverse = InverseOf(statement);
    if (inverse.sql) {
      undo.insert(undo.begin(), *inverse.sql);
      left.push_back({index, Shorten(statement.text), ""});
    } else {
      left.push_back({index, Shorten(statement.text), inverse.reason});
      if (blocker.empty()) blocker = Shorten(statement.text);
    }
  }
  for (auto& l : left) {
    if (l.reason.empty()) {
      l.reason = fmt::format("undone only with the whole operation, and `{}` cannot be", blocker);
    }
  }
  if (!blocker.empty() || undo.empty()) return left;
  if (down != nullptr) {
    std::string joined;
    for (const auto& s : undo) joined += s + ";\n";
    *down = joined;
  }
  return std::vector<LeftBehind>{};
}

}  // namespace

Status InferSqlDowns(model::Migration& migration) {
  for (std::size_t i = 0; i < migration.operations.size(); ++i) {
    auto* op = std::get_if<model::RawSql>(&migration.operations[i]);
    if (op == nullptr || op->down || op->on_complete) continue;
    auto result = Analyse(i + 1, op->up, &op->down);
    if (!result.ok()) {
      return result.error().WithWhere(
          fmt::format("{}, operation {} (sql), field up", migration.source, i + 1));
    }
  }
  return {};
}

std::vector<LeftBehind> SqlLeftBehind(const model::Migration& migration) {
  std::vector<LeftBehind> left;
  for (std::size_t i = 0; i < migration.operations.size(); ++i) {
    const auto* op = std::get_if<model::RawSql>(&migration.operations[i]);
    if (op == nullptr || op->down || op->on_complete) continue;
    auto result = Analyse(i + 1, op->up, nullptr);
    if (result.ok() && !result.value().empty()) {
      left.insert(left.end(), result.value().begin(), result.value().end());
    } else {
      left.push_back({i + 1, Shorten(op->up), "it has no `down`"});
    }
  }
  return left;
}

std::string DescribeLeftBehind(const std::vector<LeftBehind>& left) {
  std::string out;
  for (const auto& l : left) {
    out += fmt::format("  operation {} (sql): `{}` ({})\n", l.operation, l.statement, l.reason);
  }
  return out;
}

}  // namespace zerodown::sql
