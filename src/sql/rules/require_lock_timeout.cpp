// require-lock-timeout: a DDL statement waiting for its lock queues every later query on the
// table behind it, even plain SELECTs. Without lock_timeout that wait has no bound: one long
// transaction on the table stalls the whole application.
#include "sql/rules/rule.hpp"

namespace zerodown::sql::rules {
namespace {

class RequireLockTimeout final : public Rule {
 public:
  const RuleInfo& Info() const override { return info_; }

  void Check(const LintContext& context, Reporter& reporter) const override {
    for (const StatementFacts& facts : context.statements()) {
      // Locks below SHARE (CREATE INDEX CONCURRENTLY, VALIDATE) do not queue reads or writes.
      if (facts.lock.level < LockLevel::kShare || facts.lock_timeout_set) continue;
      reporter.Add(*facts.statement, -1,
                   "this statement waits for " + std::string(LockName(facts.lock.level)) + " on " +
                       facts.lock.table +
                       " with no lock_timeout set before it: while it waits behind any running "
                       "transaction, every new query on the table queues behind it, so one "
                       "slow query stalls the application.",
                   "-- at the top of the file (retry the migration if it times out):\n"
                   "SET lock_timeout = '2s';");
      return;  // once per file: one SET at the top fixes every statement
    }
  }

 private:
  RuleInfo info_{"require-lock-timeout", Severity::kWarning,
                 "DDL with no SET lock_timeout before it can stall every query on the table"};
};

}  // namespace

std::unique_ptr<Rule> MakeRequireLockTimeout() { return std::make_unique<RequireLockTimeout>(); }

}  // namespace zerodown::sql::rules
