// constraint-without-not-valid: ADD FOREIGN KEY and ADD CHECK validate every existing row while
// holding their lock. Adding them NOT VALID is a catalog change; VALIDATE CONSTRAINT afterwards
// scans under SHARE UPDATE EXCLUSIVE, which lets reads and writes go on.
#include "sql/rules/added_constraint.hpp"

namespace zerodown::sql::rules {
namespace {

class ConstraintWithoutNotValid final : public FixedInfoRule {
 public:
  ConstraintWithoutNotValid()
      : FixedInfoRule({"constraint-without-not-valid", Severity::kError,
                       "ADD FOREIGN KEY / ADD CHECK without NOT VALID scan the table under lock"}) {
  }

  void Check(const LintContext& context, Reporter& reporter) const override {
    ForEachAddedConstraint(
        context, {"CONSTR_FOREIGN", "CONSTR_CHECK"},
        [&](const Statement& statement, const std::string& table, const Json& constraint) {
          if (GetBool(constraint, "skip_validation")) return;
          const bool foreign = GetString(constraint, "contype") == "CONSTR_FOREIGN";
          const std::string name = ConstraintName(constraint, table, foreign ? "_fkey" : "_check");
          std::string definition(TextFrom(statement, LocationOf(constraint)));
          if (AlterTableCommands(statement.node).size() != 1 || definition.empty()) {
            definition = "CONSTRAINT " + name + " " +
                         (foreign ? "FOREIGN KEY (...) REFERENCES ..." : "CHECK (...)");
          } else if (definition.rfind("CONSTRAINT", 0) != 0) {
            // Named here, so that the VALIDATE below can name it.
            definition = "CONSTRAINT " + name + " " + definition;
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
};

}  // namespace

std::unique_ptr<Rule> MakeConstraintWithoutNotValid() {
  return std::make_unique<ConstraintWithoutNotValid>();
}

}  // namespace zerodown::sql::rules
