// concurrently-in-transaction: CREATE/DROP INDEX CONCURRENTLY, REINDEX CONCURRENTLY and VACUUM
// cannot run inside a transaction block; PostgreSQL refuses them there and the migration fails.
#include "sql/rules/rule.hpp"

namespace zerodown::sql::rules {
namespace {

class ConcurrentlyInTransaction final : public Rule {
 public:
  const RuleInfo& Info() const override { return info_; }

  void Check(const LintContext& context, Reporter& reporter) const override {
    for (std::size_t i = 0; i < context.statements().size(); ++i) {
      if (!context.InTransaction(i)) continue;
      const Statement& statement = *context.statements()[i].statement;
      const Json& node = Inner(statement.node);
      std::string what;
      if (statement.kind == "IndexStmt" && GetBool(node, "concurrent")) {
        what = "CREATE INDEX CONCURRENTLY";
      } else if (statement.kind == "DropStmt" && GetBool(node, "concurrent")) {
        what = "DROP INDEX CONCURRENTLY";
      } else if (statement.kind == "ReindexStmt" &&
                 HasOption(Get(node, "params"), "concurrently")) {
        what = "REINDEX CONCURRENTLY";
      } else if (statement.kind == "VacuumStmt" && GetBool(node, "is_vacuumcmd")) {
        what = "VACUUM";
      } else {
        continue;
      }
      const Statement& begin =
          *context.statements()[static_cast<std::size_t>(context.statements()[i].transaction)]
               .statement;
      reporter.Add(statement, -1,
                   what + " cannot run inside a transaction block (BEGIN at line " +
                       std::to_string(begin.start.line) +
                       "): PostgreSQL rejects it with \"cannot run inside a transaction "
                       "block\" and the whole transaction rolls back.",
                   "-- COMMIT the transaction before it and run it on its own:\nCOMMIT;\n" +
                       std::string(statement.text) + ";");
    }
  }

 private:
  RuleInfo info_{"concurrently-in-transaction", Severity::kError,
                 "CONCURRENTLY (and VACUUM) inside BEGIN ... COMMIT fails at run time"};
};

}  // namespace

std::unique_ptr<Rule> MakeConcurrentlyInTransaction() {
  return std::make_unique<ConcurrentlyInTransaction>();
}

}  // namespace zerodown::sql::rules
