// unique-without-index: ADD UNIQUE / ADD PRIMARY KEY build their index while holding ACCESS
// EXCLUSIVE. Building the index CONCURRENTLY first and attaching it with USING INDEX takes the
// lock only for the catalog change.
#include "sql/rules/rule.hpp"

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
            for (const Json* constraint : ColumnConstraints(column)) {
              Consider(statement, table, *constraint, QuoteIdent(GetString(column, "colname")),
                       reporter);
            }
          }
        });
  }

 private:
  void Consider(const Statement& statement, const std::string& table, const Json& constraint,
                const std::string& keys, Reporter& reporter) const {
    const std::string contype = GetString(constraint, "contype");
    const bool primary = contype == "CONSTR_PRIMARY";
    if (!primary && contype != "CONSTR_UNIQUE") return;
    if (!GetString(constraint, "indexname").empty()) return;
    const std::string kind = primary ? "PRIMARY KEY" : "UNIQUE";
    std::string name = GetString(constraint, "conname");
    const std::string bare = table.substr(table.rfind('.') + 1);
    if (name.empty()) name = bare + (primary ? "_pkey" : "_key");
    const std::string index = name + "_idx";
    std::string message = "ADD " + kind + " builds a unique index on " + table +
                          " while holding an ACCESS EXCLUSIVE lock, which blocks every read and "
                          "write of the table until the build ends.";
    std::string fix = "CREATE UNIQUE INDEX CONCURRENTLY " + index + " ON " + table + " (" +
                      (keys.empty() ? std::string("...") : keys) + ");\n";
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
