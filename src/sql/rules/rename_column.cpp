// rename-column: the rename itself is a catalog change, but every running application instance
// still names the old column, and its queries fail from the commit on.
#include "sql/rules/rule.hpp"

namespace zerodown::sql::rules {
namespace {

class RenameColumn final : public Rule {
 public:
  const RuleInfo& Info() const override { return info_; }

  void Check(const LintContext& context, Reporter& reporter) const override {
    ForEachRenameOnExistingTable(
        context, "OBJECT_COLUMN",
        [&](const Statement& statement, const std::string& table, const Json& node) {
          const std::string from = QuoteIdent(GetString(node, "subname"));
          const std::string to = QuoteIdent(GetString(node, "newname"));
          reporter.Add(
              statement, -1,
              "RENAME COLUMN " + from + " TO " + to + " takes an ACCESS EXCLUSIVE lock on " +
                  table +
                  " (brief) and breaks every running application instance that still reads or "
                  "writes " +
                  from + ": its queries fail from the commit until it is redeployed.",
              "-- run it with zerodown (expand/contract): `zerodown start` makes the new "
              "version's\n"
              "-- schema see " +
                  to + " and the old version's see " + from +
                  "; `zerodown complete`\n-- once no instance of the old version runs:\n" +
                  std::string(statement.text) + ";");
        });
  }

 private:
  RuleInfo info_{"rename-column", Severity::kError,
                 "RENAME COLUMN breaks the application version that is still running"};
};

}  // namespace

std::unique_ptr<Rule> MakeRenameColumn() { return std::make_unique<RenameColumn>(); }

}  // namespace zerodown::sql::rules
