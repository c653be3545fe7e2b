// drop-column: dropping is a catalog change under a brief ACCESS EXCLUSIVE lock (no rewrite),
// but an application instance that still selects, inserts or maps the column fails.
#include "sql/rules/rule.hpp"

namespace zerodown::sql::rules {
namespace {

class DropColumn final : public Rule {
 public:
  const RuleInfo& Info() const override { return info_; }

  void Check(const LintContext& context, Reporter& reporter) const override {
    ForEachAlterOfExistingTable(
        context, [&](const Statement& statement, const std::string& table, const Json& cmd) {
          if (GetString(cmd, "subtype") != "AT_DropColumn") return;
          const std::string column = QuoteIdent(GetString(cmd, "name"));
          reporter.Add(statement, -1,
                       "DROP COLUMN " + column + " takes an ACCESS EXCLUSIVE lock on " + table +
                           " (brief, no rewrite) and breaks every running application instance "
                           "that still reads or writes " +
                           column + " (including ORMs that list every column).",
                       "-- first deploy an application version that no longer uses " + column +
                           ", then drop it;\n-- or run it with zerodown, which hides it from the "
                           "new version at `zerodown start`\n-- and drops it at `zerodown "
                           "complete`:\n" +
                           std::string(statement.text) + ";");
        });
  }

 private:
  RuleInfo info_{"drop-column", Severity::kError,
                 "DROP COLUMN breaks the application version that still uses the column"};
};

}  // namespace

std::unique_ptr<Rule> MakeDropColumn() { return std::make_unique<DropColumn>(); }

}  // namespace zerodown::sql::rules
