// rename-table: like a column rename, it breaks the application version that still uses the old
// name. A view with the old name keeps simple reads and writes working in the meantime.
#include "sql/rules/rule.hpp"

namespace zerodown::sql::rules {
namespace {

class RenameTable final : public Rule {
 public:
  const RuleInfo& Info() const override { return info_; }

  void Check(const LintContext& context, Reporter& reporter) const override {
    ForEachRenameOnExistingTable(
        context, "OBJECT_TABLE",
        [&](const Statement& statement, const std::string& table, const Json& node) {
          const std::string schema = GetString(Get(node, "relation"), "schemaname");
          const std::string to = (schema.empty() ? "" : QuoteIdent(schema) + ".") +
                                 QuoteIdent(GetString(node, "newname"));
          reporter.Add(statement, -1,
                       "RENAME TO takes an ACCESS EXCLUSIVE lock on " + table +
                           " (brief) and breaks every running application instance that still "
                           "names " +
                           table + ": its queries fail from the commit on.",
                       "-- rename and leave an updatable view under the old name, in one "
                       "transaction, until no old instance runs:\nBEGIN;\nALTER TABLE " +
                           table + " RENAME TO " + QuoteIdent(GetString(node, "newname")) +
                           ";\nCREATE VIEW " + table + " AS SELECT * FROM " + to +
                           ";\nCOMMIT;\n-- later: DROP VIEW " + table + ";");
        });
  }

 private:
  RuleInfo info_{"rename-table", Severity::kError,
                 "RENAME TABLE breaks the application version that is still running"};
};

}  // namespace

std::unique_ptr<Rule> MakeRenameTable() { return std::make_unique<RenameTable>(); }

}  // namespace zerodown::sql::rules
