// The rule registry: a new rule is one file in this directory and one line in kRules below.
#include "sql/rules/rule.hpp"

// Each entry names the factory `Make<Name>()` defined in that rule's file.
#define ZERODOWN_LINT_RULES(X)  \
  X(RequireConcurrentIndex)     \
  X(ConcurrentlyInTransaction)  \
  X(AddColumnVolatileDefault)   \
  X(AddColumnNotNull)           \
  X(AddColumnConstrainedDomain) \
  X(ColumnTypeRewrite)          \
  X(SetNotNull)                 \
  X(ConstraintWithoutNotValid)  \
  X(UniqueWithoutIndex)         \
  X(AddExclusionConstraint)     \
  X(LockHeldDuringScan)         \
  X(RenameColumn)               \
  X(RenameTable)                \
  X(DropColumn)                 \
  X(DropTable)                  \
  X(VacuumFull)                 \
  X(Cluster)                    \
  X(LockTable)                  \
  X(RequireLockTimeout)         \
  X(TransactionMultipleLocks)   \
  X(EnumAddValueInTransaction)  \
  X(PreferBigintPrimaryKey)     \
  X(PreferIdentity)             \
  X(PreferText)                 \
  X(PreferTimestamptz)

namespace zerodown::sql::rules {

#define ZERODOWN_DECLARE_RULE(name) std::unique_ptr<Rule> Make##name();
ZERODOWN_LINT_RULES(ZERODOWN_DECLARE_RULE)
#undef ZERODOWN_DECLARE_RULE

const std::vector<std::unique_ptr<Rule>>& Registry() {
  static const std::vector<std::unique_ptr<Rule>> kRules = [] {
    std::vector<std::unique_ptr<Rule>> rules;
#define ZERODOWN_MAKE_RULE(name) rules.push_back(Make##name());
    ZERODOWN_LINT_RULES(ZERODOWN_MAKE_RULE)
#undef ZERODOWN_MAKE_RULE
    return rules;
  }();
  return kRules;
}

}  // namespace zerodown::sql::rules
