// add-exclusion-constraint: ADD CONSTRAINT ... EXCLUDE on an existing table builds the
// constraint's index while holding ACCESS EXCLUSIVE (every ADD table_constraint but FOREIGN KEY
// does). Unlike UNIQUE it has no USING INDEX form and no NOT VALID: PostgreSQL has no way to add
// it without that lock, so the safe form moves the rule to a place where it can be built online.
#include "sql/rules/rule.hpp"

namespace zerodown::sql::rules {
namespace {

class AddExclusionConstraint final : public Rule {
 public:
  const RuleInfo& Info() const override { return info_; }

  void Check(const LintContext& context, Reporter& reporter) const override {
    ForEachAlterOfExistingTable(
        context, [&](const Statement& statement, const std::string& table, const Json& cmd) {
          if (GetString(cmd, "subtype") != "AT_AddConstraint") return;
          const Json& constraint = Get(Get(cmd, "def"), "Constraint");
          if (GetString(constraint, "contype") != "CONSTR_EXCLUSION") return;
          std::string name = GetString(constraint, "conname");
          if (name.empty()) name = table.substr(table.rfind('.') + 1) + "_excl";
          reporter.Add(
              statement, LocationOf(constraint),
              "ADD CONSTRAINT ... EXCLUDE builds the constraint's index on " + table +
                  " while holding an ACCESS EXCLUSIVE lock, which blocks every read and write "
                  "of the table until the build ends; an exclusion constraint cannot be built "
                  "CONCURRENTLY, attached USING INDEX or added NOT VALID.",
              "-- no online form exists in PostgreSQL. Check the rows first, without a lock, so\n"
              "-- the build cannot fail at the end, then bound the wait and the build:\n"
              "SET lock_timeout = '2s';\nSET statement_timeout = '30s';  -- the build time you "
              "measured on a copy\n" +
                  std::string(statement.text) +
                  ";\n-- or, for an equality-only btree EXCLUDE, a unique index built "
                  "CONCURRENTLY: CREATE UNIQUE INDEX CONCURRENTLY " +
                  name + " ON " + table + " (...);");
        });
  }

 private:
  RuleInfo info_{"add-exclusion-constraint", Severity::kError,
                 "ADD CONSTRAINT ... EXCLUDE builds its index under ACCESS EXCLUSIVE"};
};

}  // namespace

std::unique_ptr<Rule> MakeAddExclusionConstraint() {
  return std::make_unique<AddExclusionConstraint>();
}

}  // namespace zerodown::sql::rules
