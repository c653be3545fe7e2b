// Rules for renames and drops, which break the application version still running.
// Each case fires on the unsafe form or stays quiet on the safe one (see rule_case.hpp).
#include "rule_case.hpp"

namespace zerodown::sql::testing {
namespace {

const RuleCase kBreakingCases[] = {
    {"rename_column", "rename-column", 15, "ALTER TABLE t RENAME COLUMN a TO b;", true},
    {"rename_column_new_table", "rename-column", 15,
     "CREATE TABLE t (a int); ALTER TABLE t RENAME COLUMN a TO b;", false},
    {"rename_constraint_not_column", "rename-column", 15, "ALTER TABLE t RENAME CONSTRAINT a TO b;",
     false},
    {"rename_table", "rename-table", 15, "ALTER TABLE t RENAME TO u;", true},
    {"rename_column_is_not_table", "rename-table", 15, "ALTER TABLE t RENAME a TO b;", false},
    {"drop_column", "drop-column", 15, "ALTER TABLE t DROP COLUMN a;", true},
    {"drop_constraint", "drop-column", 15, "ALTER TABLE t DROP CONSTRAINT c;", false},
    {"drop_table", "drop-table", 15, "DROP TABLE IF EXISTS t;", true},
    {"drop_view", "drop-table", 15, "DROP VIEW v;", false},
    {"drop_new_table", "drop-table", 15, "CREATE TABLE t (a int); DROP TABLE t;", false},
};

INSTANTIATE_TEST_SUITE_P(BreakingRules, RuleCaseTest, ::testing::ValuesIn(kBreakingCases),
                         CaseName);
[[maybe_unused]] const bool kBreakingRegistered = RegisterRuleCases(kBreakingCases);

}  // namespace
}  // namespace zerodown::sql::testing
