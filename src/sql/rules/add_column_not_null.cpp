// add-column-not-null-without-default: ADD COLUMN ... NOT NULL (or PRIMARY KEY) with no default
// gives every existing row a NULL, so PostgreSQL refuses it ("column contains null values") on any
// table that has a row. Identity, serial and generated columns fill themselves (and rewrite: see
// add-column-volatile-default); a constant default fills the rows from the catalog (PG 11+).
#include "sql/rules/rule.hpp"

namespace zerodown::sql::rules {
namespace {

// A constant of the column's type for the catalog-only default, "" when there is no obvious one.
std::string SampleConstant(const TypeRef& type) {
  static const std::map<std::string, std::string, std::less<>> kConstants = {
      {"int2", "0"},
      {"int4", "0"},
      {"int8", "0"},
      {"numeric", "0"},
      {"float4", "0"},
      {"float8", "0"},
      {"bool", "false"},
      {"text", "''"},
      {"varchar", "''"},
      {"bpchar", "''"},
      {"jsonb", "'{}'"},
      {"json", "'{}'"},
      {"timestamptz", "now()"},
      {"timestamp", "now()"},
      {"date", "CURRENT_DATE"}};
  auto it = kConstants.find(type.name);
  return type.array || it == kConstants.end() ? std::string() : it->second;
}

bool FillsItself(const ColumnSite& site) {
  static const std::set<std::string, std::less<>> kSerial = {"serial",  "bigserial", "smallserial",
                                                             "serial2", "serial4",   "serial8"};
  return kSerial.count(site.type.name) > 0;
}

class AddColumnNotNull final : public Rule {
 public:
  const RuleInfo& Info() const override { return info_; }

  void Check(const LintContext& context, Reporter& reporter) const override {
    for (std::size_t i = 0; i < context.statements().size(); ++i) {
      const Statement& statement = *context.statements()[i].statement;
      for (const ColumnSite& site : context.statements()[i].columns) {
        if (site.kind != ColumnSite::Kind::kAddColumn || context.CreatedBefore(site.table, i)) {
          continue;
        }
        if (FillsItself(site)) continue;
        int location = -1;
        bool has_default = false;
        for (const Json* constraint : ColumnConstraints(*site.definition)) {
          const std::string contype = GetString(*constraint, "contype");
          if (contype == "CONSTR_NOTNULL" || contype == "CONSTR_PRIMARY") {
            location = GetInt(*constraint, "location", site.location);
          } else if (contype == "CONSTR_DEFAULT") {
            has_default = ExpressionSql(Get(*constraint, "raw_expr")) != "NULL";
          } else if (contype == "CONSTR_IDENTITY" || contype == "CONSTR_GENERATED") {
            has_default = true;
          }
        }
        if (location < 0 || has_default) continue;
        Report(context, statement, site, location, reporter);
      }
    }
  }

 private:
  void Report(const LintContext& context, const Statement& statement, const ColumnSite& site,
              int location, Reporter& reporter) const {
    const std::string column = QuoteIdent(site.column);
    const std::string& table = site.table;
    const std::string check = table.substr(table.rfind('.') + 1) + "_" + site.column + "_not_null";
    std::string message = "ADD COLUMN " + column +
                          " ... NOT NULL without a DEFAULT fails on any table that has a "
                          "row (\"column contains null values\"): every existing row of " +
                          table + " would hold NULL. It takes ACCESS EXCLUSIVE on " + table +
                          " to find that out.";
    const std::string add =
        "ALTER TABLE " + table + " ADD COLUMN " + column + " " + site.type.Display();
    std::string steps = add + ";\n-- fill existing rows in batches: UPDATE " + table + " SET " +
                        column + " = ... WHERE <key> BETWEEN ... AND ...;\nALTER TABLE " + table +
                        " ADD CONSTRAINT " + check + " CHECK (" + column +
                        " IS NOT NULL) NOT VALID;\n"
                        "-- in its own transaction (SHARE UPDATE EXCLUSIVE: reads and writes go "
                        "on):\nALTER TABLE " +
                        table + " VALIDATE CONSTRAINT " + check + ";";
    if (context.pg_version() >= 12) {
      steps += "\nALTER TABLE " + table + " ALTER COLUMN " + column +
               " SET NOT NULL;  -- the validated CHECK proves it: no scan\nALTER TABLE " + table +
               " DROP CONSTRAINT " + check + ";";
    }
    std::string fix = steps;
    const std::string constant = SampleConstant(site.type);
    if (context.pg_version() >= 11 && !constant.empty()) {
      // One statement when one value suits every existing row; the long way as comments.
      fix = add + " NOT NULL DEFAULT " + constant +
            ";  -- a non-volatile default: catalog only (PostgreSQL 11+)\n"
            "-- or, when each row needs its own value: add it nullable, fill it, then prove it:\n";
      std::string line;
      for (char c : steps) {
        line += c;
        if (c != '\n') continue;
        fix += line.rfind("--", 0) == 0 ? line : "-- " + line;
        line.clear();
      }
      fix += line.rfind("--", 0) == 0 ? line : "-- " + line;
    }
    reporter.Add(statement, location, std::move(message), std::move(fix));
  }

  RuleInfo info_{"add-column-not-null-without-default", Severity::kError,
                 "ADD COLUMN ... NOT NULL without a default fails on a table that has rows"};
};

}  // namespace

std::unique_ptr<Rule> MakeAddColumnNotNull() { return std::make_unique<AddColumnNotNull>(); }

}  // namespace zerodown::sql::rules
