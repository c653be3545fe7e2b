// drop-table: DROP TABLE waits for ACCESS EXCLUSIVE and breaks every running instance that
// still uses the table; data is gone for good.
#include "sql/rules/rule.hpp"

namespace zerodown::sql::rules {
namespace {

class DropTable final : public Rule {
 public:
  const RuleInfo& Info() const override { return info_; }

  void Check(const LintContext& context, Reporter& reporter) const override {
    for (std::size_t i = 0; i < context.statements().size(); ++i) {
      const Statement& statement = *context.statements()[i].statement;
      if (statement.kind != "DropStmt") continue;
      const Json& node = Inner(statement.node);
      if (GetString(node, "removeType") != "OBJECT_TABLE") continue;
      const Json& objects = Get(node, "objects");
      if (!objects.is_array()) continue;
      for (const Json& object : objects) {
        const std::string table = QualifiedName(Get(Get(object, "List"), "items"));
        if (context.CreatedBefore(table, i)) continue;
        reporter.Add(statement, -1,
                     "DROP TABLE " + table +
                         " takes an ACCESS EXCLUSIVE lock (brief) and "
                         "breaks every running application instance that still uses it; its "
                         "data cannot be brought back by a rollback of the application.",
                     "-- deploy an application version that no longer uses " + table +
                         " first; keep the data a while by renaming instead:\nALTER TABLE " +
                         table + " RENAME TO " + table.substr(table.rfind('.') + 1) +
                         "_deprecated;\n-- and drop it in a later migration");
      }
    }
  }

 private:
  RuleInfo info_{"drop-table", Severity::kError,
                 "DROP TABLE breaks the application version that still uses the table"};
};

}  // namespace

std::unique_ptr<Rule> MakeDropTable() { return std::make_unique<DropTable>(); }

}  // namespace zerodown::sql::rules
