// set-not-null: ALTER COLUMN ... SET NOT NULL scans the whole table under ACCESS EXCLUSIVE to
// prove there is no NULL. Since PostgreSQL 12 the scan is skipped when a validated
// CHECK (col IS NOT NULL) constraint already proves it; before 12 it always scans.
#include <set>

#include "sql/rules/rule.hpp"

namespace zerodown::sql::rules {
namespace {

// The columns a CHECK expression proves NOT NULL: `c IS NOT NULL`, and ANDs of those.
void NotNullColumns(const Json& expression, std::set<std::string>& out) {
  const std::string_view type = NodeType(expression);
  const Json& node = Inner(expression);
  if (type == "NullTest" && GetString(node, "nulltesttype") == "IS_NOT_NULL") {
    const Json& column = Get(Get(node, "arg"), "ColumnRef");
    if (column.is_object()) out.insert(QuoteIdent(JoinNames(Get(column, "fields"))));
  } else if (type == "BoolExpr" && GetString(node, "boolop") == "AND_EXPR") {
    const Json& args = Get(node, "args");
    if (args.is_array()) {
      for (const Json& arg : args) NotNullColumns(arg, out);
    }
  }
}

class SetNotNull final : public Rule {
 public:
  const RuleInfo& Info() const override { return info_; }

  void Check(const LintContext& context, Reporter& reporter) const override {
    std::set<std::string> proven;                          // "table.column"
    std::map<std::string, std::set<std::string>> pending;  // "table.constraint" -> cols
    for (std::size_t i = 0; i < context.statements().size(); ++i) {
      const Statement& statement = *context.statements()[i].statement;
      if (statement.kind != "AlterTableStmt") continue;
      const std::string table = RelationName(Get(Inner(statement.node), "relation"));
      for (const Json* cmd : AlterTableCommands(statement.node)) {
        const std::string subtype = GetString(*cmd, "subtype");
        if (subtype == "AT_AddConstraint") {
          const Json& constraint = Get(Get(*cmd, "def"), "Constraint");
          if (GetString(constraint, "contype") != "CONSTR_CHECK") continue;
          std::set<std::string> columns;
          NotNullColumns(Get(constraint, "raw_expr"), columns);
          if (GetBool(constraint, "skip_validation")) {
            pending[table + "." + GetString(constraint, "conname")] = columns;
          } else {
            for (const auto& column : columns) proven.insert(table + "." + column);
          }
        } else if (subtype == "AT_ValidateConstraint") {
          auto it = pending.find(table + "." + GetString(*cmd, "name"));
          if (it == pending.end()) continue;
          for (const auto& column : it->second) proven.insert(table + "." + column);
        } else if (subtype == "AT_SetNotNull") {
          const std::string column = QuoteIdent(GetString(*cmd, "name"));
          if (context.CreatedBefore(table, i)) continue;
          if (context.pg_version() >= 12 && proven.count(table + "." + column) > 0) continue;
          Report(context, statement, table, column, reporter);
        }
      }
    }
  }

 private:
  void Report(const LintContext& context, const Statement& statement, const std::string& table,
              const std::string& column, Reporter& reporter) const {
    std::string message = "SET NOT NULL on " + table + "." + column +
                          " scans the whole table under an ACCESS EXCLUSIVE lock, which "
                          "blocks every read and write of it until the scan ends";
    std::string fix;
    const std::string check = table.substr(table.rfind('.') + 1) + "_" + column + "_not_null";
    if (context.pg_version() >= 12) {
      message +=
          ", because no validated CHECK (" + column + " IS NOT NULL) comes before it in this file.";
      fix = "ALTER TABLE " + table + " ADD CONSTRAINT " + check + " CHECK (" + column +
            " IS NOT NULL) NOT VALID;  -- brief lock, no scan\n"
            "ALTER TABLE " +
            table + " VALIDATE CONSTRAINT " + check +
            ";  -- scans under SHARE UPDATE EXCLUSIVE: reads and writes go on\n"
            "ALTER TABLE " +
            table + " ALTER COLUMN " + column +
            " SET NOT NULL;  -- uses the CHECK, no scan\n"
            "ALTER TABLE " +
            table + " DROP CONSTRAINT " + check + ";";
    } else {
      message +=
          "; before PostgreSQL 12 it always scans, even when a CHECK constraint proves "
          "the column has no NULL.";
      fix =
          "-- keep a validated CHECK instead of NOT NULL until the server is on 12+:\n"
          "ALTER TABLE " +
          table + " ADD CONSTRAINT " + check + " CHECK (" + column +
          " IS NOT NULL) NOT VALID;\n"
          "ALTER TABLE " +
          table + " VALIDATE CONSTRAINT " + check + ";";
    }
    reporter.Add(statement, -1, std::move(message), std::move(fix));
  }

  RuleInfo info_{"set-not-null", Severity::kError,
                 "SET NOT NULL scans the table under ACCESS EXCLUSIVE unless a validated CHECK "
                 "proves it (PG 12+)"};
};

}  // namespace

std::unique_ptr<Rule> MakeSetNotNull() { return std::make_unique<SetNotNull>(); }

}  // namespace zerodown::sql::rules
