// transaction-multiple-locks: a transaction keeps every lock until COMMIT. When it already holds
// a lock that blocks the application on one table and then waits for a lock on another, the
// first table is blocked for the whole wait.
#include "sql/rules/rule.hpp"

namespace zerodown::sql::rules {
namespace {

class TransactionMultipleLocks final : public Rule {
 public:
  const RuleInfo& Info() const override { return info_; }

  void Check(const LintContext& context, Reporter& reporter) const override {
    int transaction = -1;
    const StatementFacts* first = nullptr;  // the first blocking lock of this transaction
    for (const StatementFacts& facts : context.statements()) {
      if (facts.transaction != transaction) {
        transaction = facts.transaction;
        first = nullptr;
      }
      if (transaction < 0 || facts.lock.level < LockLevel::kShare) continue;
      if (first == nullptr) {
        first = &facts;
        continue;
      }
      if (facts.lock.table == first->lock.table) continue;  // no new wait for another table
      reporter.Add(*facts.statement, -1,
                   "this transaction already holds " + std::string(LockName(first->lock.level)) +
                       " on " + first->lock.table + " (line " +
                       std::to_string(first->statement->start.line) + "), which " +
                       std::string(LockBlocks(first->lock.level)) + ", while it waits for " +
                       std::string(LockName(facts.lock.level)) + " on " + facts.lock.table + ": " +
                       first->lock.table +
                       " stays blocked for as long as that wait and the rest "
                       "of the transaction take.",
                   "-- one lock-taking statement per transaction, each with a lock_timeout:\n"
                   "SET lock_timeout = '2s';\n" +
                       std::string(first->statement->text) + ";\nCOMMIT;\nBEGIN;\n" +
                       std::string(facts.statement->text) + ";");
    }
  }

 private:
  RuleInfo info_{"transaction-multiple-locks", Severity::kWarning,
                 "several lock-taking statements in one transaction hold the first lock while "
                 "waiting for the next"};
};

}  // namespace

std::unique_ptr<Rule> MakeTransactionMultipleLocks() {
  return std::make_unique<TransactionMultipleLocks>();
}

}  // namespace zerodown::sql::rules
