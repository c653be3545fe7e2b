// cluster: CLUSTER rewrites the table in index order under ACCESS EXCLUSIVE.
#include "sql/rules/rule.hpp"

namespace zerodown::sql::rules {
namespace {

class Cluster final : public Rule {
 public:
  const RuleInfo& Info() const override { return info_; }

  void Check(const LintContext& context, Reporter& reporter) const override {
    for (const StatementFacts& facts : context.statements()) {
      const Statement& statement = *facts.statement;
      if (statement.kind != "ClusterStmt") continue;
      const std::string table =
          facts.lock.table.empty() ? "every clustered table" : facts.lock.table;
      const std::string index = GetString(Inner(statement.node), "indexname");
      reporter.Add(statement, -1,
                   "CLUSTER rewrites " + table +
                       " and its indexes under an ACCESS EXCLUSIVE lock, which blocks every "
                       "read and write until the rewrite ends.",
                   "-- reorder online instead:\n-- pg_repack --table " + table +
                       (index.empty() ? std::string(" --order-by <columns>")
                                      : " --order-by <columns of " + index + ">") +
                       " <database>");
    }
  }

 private:
  RuleInfo info_{"cluster", Severity::kError, "CLUSTER rewrites the table under ACCESS EXCLUSIVE"};
};

}  // namespace

std::unique_ptr<Rule> MakeCluster() { return std::make_unique<Cluster>(); }

}  // namespace zerodown::sql::rules
