// enum-add-value-in-transaction: before PostgreSQL 12, ALTER TYPE ... ADD VALUE cannot run
// inside a transaction block; the migration fails there.
#include "sql/rules/rule.hpp"

namespace zerodown::sql::rules {
namespace {

class EnumAddValueInTransaction final : public Rule {
 public:
  const RuleInfo& Info() const override { return info_; }

  void Check(const LintContext& context, Reporter& reporter) const override {
    if (context.pg_version() >= 12) return;
    for (std::size_t i = 0; i < context.statements().size(); ++i) {
      const Statement& statement = *context.statements()[i].statement;
      if (statement.kind != "AlterEnumStmt" || !context.InTransaction(i)) continue;
      const Json& node = Inner(statement.node);
      if (!GetString(node, "oldVal").empty()) continue;  // RENAME VALUE is allowed
      reporter.Add(statement, -1,
                   "ALTER TYPE " + JoinNames(Get(node, "typeName")) +
                       " ADD VALUE cannot run inside a transaction block before PostgreSQL 12 "
                       "(target: " +
                       std::to_string(context.pg_version()) +
                       "): the migration fails and rolls back.",
                   "-- run it on its own, outside BEGIN ... COMMIT:\nCOMMIT;\n" +
                       std::string(statement.text) + ";");
    }
  }

 private:
  RuleInfo info_{"enum-add-value-in-transaction", Severity::kError,
                 "ALTER TYPE ... ADD VALUE inside a transaction fails before PG 12"};
};

}  // namespace

std::unique_ptr<Rule> MakeEnumAddValueInTransaction() {
  return std::make_unique<EnumAddValueInTransaction>();
}

}  // namespace zerodown::sql::rules
