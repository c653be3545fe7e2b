// unique-without-index: ADD UNIQUE / ADD PRIMARY KEY build their index while holding ACCESS
// EXCLUSIVE. Building the index CONCURRENTLY first and attaching it with USING INDEX takes the
// lock only for the catalog change.
#include <cctype>

#include "sql/rules/added_constraint.hpp"

namespace zerodown::sql::rules {
namespace {

std::string KeyList(const Json& constraint) {
  std::string out;
  const Json& keys = Get(constraint, "keys");
  if (!keys.is_array()) return out;
  for (const Json& key : keys) {
    if (!out.empty()) out += ", ";
    out += QuoteIdent(GetString(Get(key, "String"), "sval"));
  }
  return out;
}

// A quoted column name ("\"Handle\"") as it goes into a constraint name (Handle).
std::string UnquotedName(std::string name) {
  if (name.size() >= 2 && name.front() == '"') name = name.substr(1, name.size() - 2);
  return name;
}

class UniqueWithoutIndex final : public Rule {
 public:
  const RuleInfo& Info() const override { return info_; }

  void Check(const LintContext& context, Reporter& reporter) const override {
    ForEachAlterOfExistingTable(
        context, [&](const Statement& statement, const std::string& table, const Json& cmd) {
          const std::string subtype = GetString(cmd, "subtype");
          if (subtype == "AT_AddConstraint") {
            const Json& constraint = Get(Get(cmd, "def"), "Constraint");
            Consider(statement, table, constraint, KeyList(constraint), reporter);
          } else if (subtype == "AT_AddColumn") {
            const Json& column = Get(Get(cmd, "def"), "ColumnDef");
            const std::vector<const Json*> constraints = ColumnConstraints(column);
            for (const Json* constraint : constraints) {
              Consider(statement, table, *constraint, QuoteIdent(GetString(column, "colname")),
                       reporter, PlainColumn(statement, table, column, *constraints.front()));
            }
          }
        });
  }

 private:
  // For ADD COLUMN ... UNIQUE: the column added without its constraints ("ALTER TABLE t ADD
  // COLUMN handle text;"), which the unique index below needs first.
  static std::string PlainColumn(const Statement& statement, const std::string& table,
                                 const Json& column, const Json& first_constraint) {
    const std::string_view from = TextFrom(statement, LocationOf(column));
    const std::size_t length =
        static_cast<std::size_t>(LocationOf(first_constraint) - LocationOf(column));
    if (from.empty() || LocationOf(first_constraint) < LocationOf(column) || length > from.size())
      return "";
    std::string definition(from.substr(0, length));
    while (!definition.empty() && std::isspace(static_cast<unsigned char>(definition.back()))) {
      definition.pop_back();
    }
    return "ALTER TABLE " + table + " ADD COLUMN " + definition + ";\n";
  }

  void Consider(const Statement& statement, const std::string& table, const Json& constraint,
                const std::string& keys, Reporter& reporter,
                const std::string& add_column = "") const {
    const std::string contype = GetString(constraint, "contype");
    const bool primary = contype == "CONSTR_PRIMARY";
    if (!primary && contype != "CONSTR_UNIQUE") return;
    if (!GetString(constraint, "indexname").empty()) return;
    const std::string kind = primary ? "PRIMARY KEY" : "UNIQUE";
    // PostgreSQL's own names: t_pkey, t_col_key for a column's UNIQUE, t_key otherwise.
    const std::string name = ConstraintName(
        constraint, table,
        primary ? "_pkey" : (add_column.empty() ? "_key" : "_" + UnquotedName(keys) + "_key"));
    const std::string index = name + "_idx";
    std::string message = "ADD " + kind + " builds a unique index on " + table +
                          " while holding an ACCESS EXCLUSIVE lock, which blocks every read and "
                          "write of the table until the build ends.";
    std::string fix = add_column + "CREATE UNIQUE INDEX CONCURRENTLY " + index + " ON " + table +
                      " (" + (keys.empty() ? std::string("...") : keys) + ");\n";
    if (primary) {
      fix +=
          "-- the key columns must already be NOT NULL (see set-not-null for the online "
          "way)\n";
    }
    fix += "ALTER TABLE " + table + " ADD CONSTRAINT " + name + " " + kind + " USING INDEX " +
           index + ";";
    reporter.Add(statement, LocationOf(constraint), std::move(message), std::move(fix));
  }

  RuleInfo info_{"unique-without-index", Severity::kError,
                 "ADD UNIQUE / PRIMARY KEY without USING INDEX build the index under ACCESS "
                 "EXCLUSIVE"};
};

}  // namespace

std::unique_ptr<Rule> MakeUniqueWithoutIndex() { return std::make_unique<UniqueWithoutIndex>(); }

}  // namespace zerodown::sql::rules
