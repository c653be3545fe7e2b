// vacuum-full: VACUUM FULL rewrites the table and its indexes under ACCESS EXCLUSIVE.
#include "sql/rules/rule.hpp"

namespace zerodown::sql::rules {
namespace {

class VacuumFull final : public Rule {
 public:
  const RuleInfo& Info() const override { return info_; }

  void Check(const LintContext& context, Reporter& reporter) const override {
    for (const StatementFacts& facts : context.statements()) {
      const Statement& statement = *facts.statement;
      if (statement.kind != "VacuumStmt") continue;
      const Json& node = Inner(statement.node);
      if (!HasOption(Get(node, "options"), "full")) continue;
      const std::string table = facts.lock.table.empty() ? "the table" : facts.lock.table;
      reporter.Add(statement, -1,
                   "VACUUM FULL rewrites " + table +
                       " and all its indexes under an ACCESS EXCLUSIVE lock, which blocks every "
                       "read and write of it until the copy ends (minutes to hours).",
                   "-- reclaim space online instead:\n-- pg_repack --table " + table +
                       " <database>   -- rebuilds with a brief lock at the end\n"
                       "-- or: zerodown repack " +
                       table +
                       "   -- the same, without an extension\n"
                       "-- or plain VACUUM, if reusing the space is enough (reads and writes go "
                       "on):\nVACUUM (ANALYZE)" +
                       (facts.lock.table.empty() ? std::string() : " " + facts.lock.table) + ";");
    }
  }

 private:
  RuleInfo info_{"vacuum-full", Severity::kError,
                 "VACUUM FULL rewrites the table under ACCESS EXCLUSIVE"};
};

}  // namespace

std::unique_ptr<Rule> MakeVacuumFull() { return std::make_unique<VacuumFull>(); }

}  // namespace zerodown::sql::rules
