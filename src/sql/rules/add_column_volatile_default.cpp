// add-column-volatile-default: since PostgreSQL 11, ADD COLUMN with a constant or STABLE default
// only writes the catalog; a VOLATILE default (random(), gen_random_uuid(), clock_timestamp(),
// a serial or identity column, a STORED generated column) still rewrites the whole table under
// ACCESS EXCLUSIVE. Before 11, any non-NULL default rewrites.
#include <set>

#include "sql/rules/rule.hpp"

namespace zerodown::sql::rules {
namespace {

// Functions whose volatility we know without a catalog. Anything else might be VOLATILE.
const std::set<std::string, std::less<>> kVolatile = {
    "random",           "gen_random_uuid", "uuid_generate_v1", "uuid_generate_v1mc",
    "uuid_generate_v4", "clock_timestamp", "timeofday",        "nextval",
    "setseed",          "txid_current",    "uuid_generate_v7", "gen_random_bytes"};
const std::set<std::string, std::less<>> kNotVolatile = {"now",
                                                         "transaction_timestamp",
                                                         "statement_timestamp",
                                                         "current_setting",
                                                         "lower",
                                                         "upper",
                                                         "length",
                                                         "concat",
                                                         "md5",
                                                         "to_char",
                                                         "to_timestamp",
                                                         "to_date",
                                                         "date_trunc",
                                                         "abs",
                                                         "round",
                                                         "trim",
                                                         "btrim",
                                                         "replace",
                                                         "substring",
                                                         "jsonb_build_object",
                                                         "json_build_object",
                                                         "jsonb_build_array",
                                                         "json_build_array",
                                                         "to_jsonb",
                                                         "make_date",
                                                         "make_interval",
                                                         "array_fill",
                                                         "current_date"};

enum class Volatility { kConstant, kStable, kVolatile, kUnknown };

struct Verdict {
  Volatility volatility = Volatility::kConstant;
  std::string function;  // the function that decided it
};

void Merge(Verdict& into, const Verdict& other) {
  if (static_cast<int>(other.volatility) > static_cast<int>(into.volatility)) into = other;
}

Verdict Classify(const Json& expression) {
  const std::string_view type = NodeType(expression);
  const Json& node = Inner(expression);
  Verdict verdict;
  if (type == "A_Const") return verdict;
  if (type == "SQLValueFunction") return {Volatility::kStable, ExpressionSql(expression)};
  if (type == "SubLink") return {Volatility::kUnknown, "a sub-query"};
  if (type == "FuncCall") {
    const Json& names = Get(node, "funcname");
    const std::string name =
        names.is_array() && !names.empty() ? GetString(Get(names.back(), "String"), "sval") : "";
    if (kVolatile.count(name) > 0) return {Volatility::kVolatile, name + "()"};
    verdict = kNotVolatile.count(name) > 0 ? Verdict{Volatility::kStable, name + "()"}
                                           : Verdict{Volatility::kUnknown, name + "()"};
  }
  // Operators, casts, CASE, COALESCE, arrays: as volatile as their most volatile part.
  if (node.is_object() || node.is_array()) {
    for (const auto& [key, child] : node.items()) {
      if (key == "typeName" || key == "funcname") continue;
      if (child.is_array()) {
        for (const Json& item : child) Merge(verdict, Classify(item));
      } else if (child.is_object()) {
        Merge(verdict, Classify(child));
      }
    }
  }
  return verdict;
}

bool IsSerial(const TypeRef& type) {
  return type.name == "serial" || type.name == "bigserial" || type.name == "smallserial" ||
         type.name == "serial4" || type.name == "serial8" || type.name == "serial2";
}

class AddColumnVolatileDefault final : public Rule {
 public:
  const RuleInfo& Info() const override { return info_; }

  void Check(const LintContext& context, Reporter& reporter) const override {
    for (std::size_t i = 0; i < context.statements().size(); ++i) {
      const Statement& statement = *context.statements()[i].statement;
      if (statement.kind != "AlterTableStmt") continue;
      for (const ColumnSite& site : context.statements()[i].columns) {
        if (site.kind != ColumnSite::Kind::kAddColumn) continue;
        if (context.CreatedBefore(site.table, i)) continue;
        CheckColumn(context, statement, site, reporter);
      }
    }
  }

 private:
  void CheckColumn(const LintContext& context, const Statement& statement, const ColumnSite& site,
                   Reporter& reporter) const {
    const std::string column = QuoteIdent(site.column);
    const std::string type = site.type.Display();
    std::string cause;
    std::string default_sql;
    Severity severity = Severity::kError;
    int location = site.location;
    if (IsSerial(site.type)) {
      cause = "a " + site.type.name + " column's default is nextval(), which is VOLATILE";
      default_sql = "nextval(...)";
    }
    for (const Json* constraint : ColumnConstraints(*site.definition)) {
      const std::string contype = GetString(*constraint, "contype");
      if (contype == "CONSTR_IDENTITY") {
        cause = "an identity column's values come from a sequence, row by row";
        location = GetInt(*constraint, "location", location);
      } else if (contype == "CONSTR_GENERATED") {
        cause = "a STORED generated column is computed and written for every row";
        location = GetInt(*constraint, "location", location);
      } else if (contype == "CONSTR_DEFAULT") {
        const Json& expression = Get(*constraint, "raw_expr");
        default_sql = ExpressionSql(expression);
        if (default_sql == "NULL") continue;
        location = GetInt(*constraint, "location", location);
        if (context.pg_version() < 11) {
          cause = "before PostgreSQL 11 every non-NULL default is written into every row";
          continue;
        }
        const Verdict verdict = Classify(expression);
        if (verdict.volatility == Volatility::kVolatile) {
          cause = "the default calls " + verdict.function + ", which is VOLATILE";
        } else if (verdict.volatility == Volatility::kUnknown) {
          cause = "the default calls " + verdict.function +
                  ", which zerodown cannot prove is not VOLATILE";
          severity = Severity::kWarning;
        }
      }
    }
    if (cause.empty()) return;
    std::string message = "ADD COLUMN " + column + " rewrites the whole table " + site.table +
                          " under an ACCESS EXCLUSIVE lock, which blocks every read and write "
                          "of it until the rewrite ends: " +
                          cause + ".";
    if (severity == Severity::kWarning) message += IgnoreHint(info_.id);
    const std::string base_type =
        IsSerial(site.type)
            ? (site.type.name == "bigserial" || site.type.name == "serial8" ? "bigint" : "integer")
            : type;
    std::string fix = "ALTER TABLE " + site.table + " ADD COLUMN " + column + " " + base_type +
                      ";  -- no default: catalog only\n";
    if (!default_sql.empty() && default_sql != "nextval(...)") {
      // An expression zerodown cannot print stays a comment, so the fix still parses.
      const bool printable = default_sql.find("<expression>") == std::string::npos;
      fix += std::string(printable ? "" : "-- ") + "ALTER TABLE " + site.table + " ALTER COLUMN " +
             column + " SET DEFAULT " + (printable ? default_sql : "<the default>") +
             ";  -- new rows only\n";
    }
    fix +=
        "-- then fill existing rows in batches (zerodown start does this with a throttled "
        "backfill):\n-- UPDATE " +
        site.table + " SET " + column + " = " +
        (default_sql.empty() ? std::string("<value>") : default_sql) +
        " WHERE <key> BETWEEN <lo> AND <hi>;";
    reporter.Add(severity, statement, location, std::move(message), std::move(fix));
  }

  RuleInfo info_{"add-column-volatile-default", Severity::kError,
                 "ADD COLUMN with a volatile default (any default before PG 11) rewrites the "
                 "table under ACCESS EXCLUSIVE"};
};

}  // namespace

std::unique_ptr<Rule> MakeAddColumnVolatileDefault() {
  return std::make_unique<AddColumnVolatileDefault>();
}

}  // namespace zerodown::sql::rules
