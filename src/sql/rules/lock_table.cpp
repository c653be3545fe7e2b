// lock-table: an explicit LOCK TABLE in SHARE mode or stronger holds application writes (or all
// queries) until the transaction ends.
#include <algorithm>

#include "sql/rules/rule.hpp"

namespace zerodown::sql::rules {
namespace {

class LockTable final : public Rule {
 public:
  const RuleInfo& Info() const override { return info_; }

  void Check(const LintContext& context, Reporter& reporter) const override {
    for (const StatementFacts& facts : context.statements()) {
      const Statement& statement = *facts.statement;
      if (statement.kind != "LockStmt") continue;
      const auto mode = static_cast<LockLevel>(GetInt(Inner(statement.node), "mode", 8));
      if (mode < LockLevel::kShare) continue;  // does not block reads or writes
      std::string one_line(statement.text);    // it goes into a comment
      std::replace(one_line.begin(), one_line.end(), '\n', ' ');
      reporter.Add(
          statement, -1,
          "LOCK TABLE " + (facts.lock.table.empty() ? std::string("...") : facts.lock.table) +
              " takes " + std::string(LockName(mode)) + ", which " + std::string(LockBlocks(mode)) +
              " until the transaction ends, and while it waits for the lock every "
              "query that comes after it waits too.",
          "-- drop the LOCK TABLE: each statement takes the lock it needs, each wait bounded "
          "by\nSET lock_timeout = '2s';\n-- (if the lock itself is needed, keep it after that "
          "SET: " +
              one_line + ")");
    }
  }

 private:
  RuleInfo info_{"lock-table", Severity::kError,
                 "LOCK TABLE in SHARE mode or stronger blocks the application"};
};

}  // namespace

std::unique_ptr<Rule> MakeLockTable() { return std::make_unique<LockTable>(); }

}  // namespace zerodown::sql::rules
