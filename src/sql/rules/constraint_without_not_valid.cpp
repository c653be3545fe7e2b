// constraint-without-not-valid: ADD FOREIGN KEY and ADD CHECK validate every existing row while
// holding their lock. Adding them NOT VALID is a catalog change; VALIDATE CONSTRAINT afterwards
// scans under SHARE UPDATE EXCLUSIVE, which lets reads and writes go on.
#include "sql/rules/rule.hpp"

namespace zerodown::sql::rules {
namespace {

class ConstraintWithoutNotValid final : public Rule {
 public:
  const RuleInfo& Info() const override { return info_; }

  void Check(const LintContext& context, Reporter& reporter) const override {
    ForEachAlterOfExistingTable(
        context, [&](const Statement& statement, const std::string& table, const Json& cmd) {
          if (GetString(cmd, "subtype") != "AT_AddConstraint") return;
          const Json& constraint = Get(Get(cmd, "def"), "Constraint");
          const std::string contype = GetString(constraint, "contype");
          if (contype != "CONSTR_FOREIGN" && contype != "CONSTR_CHECK") return;
          if (GetBool(constraint, "skip_validation")) return;
          const bool foreign = contype == "CONSTR_FOREIGN";
          std::string name = GetString(constraint, "conname");
          std::string definition(TextFrom(statement, LocationOf(constraint)));
          if (AlterTableCommands(statement.node).size() != 1 || definition.empty()) {
            definition = "CONSTRAINT <name> " +
                         std::string(foreign ? "FOREIGN KEY (...) REFERENCES ..." : "CHECK (...)");
          }
          if (name.empty()) {
            // Named here, so that the VALIDATE below can name it.
            name = table.substr(table.rfind('.') + 1) + (foreign ? "_fkey" : "_check");
            if (definition.rfind("CONSTRAINT", 0) != 0) {
              definition = "CONSTRAINT " + name + " " + definition;
            }
          }
          std::string message =
              foreign ? "ADD FOREIGN KEY checks every row of " + table +
                            " while it holds SHARE ROW EXCLUSIVE locks on " + table + " and on " +
                            RelationName(Get(constraint, "pktable")) +
                            ", which block INSERT, UPDATE and DELETE on both tables until the "
                            "scan ends."
                      : "ADD CHECK checks every row of " + table +
                            " while it holds an ACCESS EXCLUSIVE lock, which blocks every read "
                            "and write of the table until the scan ends.";
          std::string fix = "ALTER TABLE " + table + " ADD " + definition +
                            " NOT VALID;  -- new rows are checked from now on\n"
                            "-- then, in a separate transaction (SHARE UPDATE EXCLUSIVE: reads "
                            "and writes go on):\nALTER TABLE " +
                            table + " VALIDATE CONSTRAINT " + name + ";";
          reporter.Add(statement, LocationOf(constraint), std::move(message), std::move(fix));
        });
  }

 private:
  RuleInfo info_{"constraint-without-not-valid", Severity::kError,
                 "ADD FOREIGN KEY / ADD CHECK without NOT VALID scan the table under lock"};
};

}  // namespace

std::unique_ptr<Rule> MakeConstraintWithoutNotValid() {
  return std::make_unique<ConstraintWithoutNotValid>();
}

}  // namespace zerodown::sql::rules
