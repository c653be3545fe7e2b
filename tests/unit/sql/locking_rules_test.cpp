// Lock rules: VACUUM FULL and CLUSTER, explicit locks, lock_timeout, what one transaction
// holds, ADD VALUE in a transaction.
// Each case fires on the unsafe form or stays quiet on the safe one (see rule_case.hpp).
#include "rule_case.hpp"

namespace zerodown::sql::testing {
namespace {

const RuleCase kLockingCases[] = {
    {"vacuum_full", "vacuum-full", 15, "VACUUM FULL t;", true},
    {"vacuum_full_options", "vacuum-full", 15, "VACUUM (FULL, ANALYZE) t;", true},
    {"vacuum_plain", "vacuum-full", 15, "VACUUM (ANALYZE) t;", false},
    {"cluster", "cluster", 15, "CLUSTER t USING t_pkey;", true},
    {"analyze_not_cluster", "cluster", 15, "ANALYZE t;", false},
    {"lock_table_default", "lock-table", 15, "BEGIN; LOCK TABLE t; COMMIT;", true},
    {"lock_table_share", "lock-table", 15, "BEGIN; LOCK TABLE t IN SHARE MODE; COMMIT;", true},
    {"lock_table_row_exclusive", "lock-table", 15,
     "BEGIN; LOCK TABLE t IN ROW EXCLUSIVE MODE; COMMIT;", false},
    {"ddl_without_timeout", "require-lock-timeout", 15, "ALTER TABLE t ADD COLUMN c int;", true},
    {"ddl_with_timeout", "require-lock-timeout", 15,
     "SET lock_timeout = '2s'; ALTER TABLE t ADD COLUMN c int;", false},
    {"ddl_with_local_timeout", "require-lock-timeout", 15,
     "BEGIN; SET LOCAL lock_timeout = 1000; ALTER TABLE t ADD COLUMN c int; COMMIT;", false},
    {"local_timeout_ends_with_tx", "require-lock-timeout", 15,
     "BEGIN; SET LOCAL lock_timeout = 1000; COMMIT; ALTER TABLE t ADD COLUMN c int;", true},
    {"timeout_zero", "require-lock-timeout", 15,
     "SET lock_timeout = 0; ALTER TABLE t ADD COLUMN c int;", true},
    {"timeout_reset", "require-lock-timeout", 15,
     "SET lock_timeout = '1s'; RESET lock_timeout; DROP TABLE t;", true},
    {"timeout_after_ddl", "require-lock-timeout", 15,
     "ALTER TABLE t ADD COLUMN c int; SET lock_timeout = '1s';", true},
    {"cic_needs_no_timeout", "require-lock-timeout", 15, "CREATE INDEX CONCURRENTLY i ON t (a);",
     false},
    {"new_table_needs_no_timeout", "require-lock-timeout", 15,
     "CREATE TABLE t (a int); ALTER TABLE t ADD COLUMN b int;", false},
    {"two_tables_in_tx", "transaction-multiple-locks", 15,
     "BEGIN; ALTER TABLE a ADD COLUMN c int; ALTER TABLE b ADD COLUMN c int; COMMIT;", true},
    {"same_table_twice_in_tx", "transaction-multiple-locks", 15,
     "BEGIN; ALTER TABLE a ADD COLUMN c int; ALTER TABLE a ADD COLUMN d int; COMMIT;", false},
    {"two_tables_two_tx", "transaction-multiple-locks", 15,
     "BEGIN; ALTER TABLE a ADD COLUMN c int; COMMIT;\n"
     "BEGIN; ALTER TABLE b ADD COLUMN c int; COMMIT;",
     false},
    {"two_tables_no_tx", "transaction-multiple-locks", 15,
     "ALTER TABLE a ADD COLUMN c int; ALTER TABLE b ADD COLUMN c int;", false},
    {"validate_is_not_blocking", "transaction-multiple-locks", 15,
     "BEGIN; ALTER TABLE a ADD COLUMN c int; ALTER TABLE b VALIDATE CONSTRAINT x; COMMIT;", false},
    {"enum_in_tx_10", "enum-add-value-in-transaction", 10,
     "BEGIN; ALTER TYPE mood ADD VALUE 'meh'; COMMIT;", true},
    {"enum_in_tx_11", "enum-add-value-in-transaction", 11,
     "BEGIN; ALTER TYPE mood ADD VALUE 'meh'; COMMIT;", true},
    {"enum_in_tx_12", "enum-add-value-in-transaction", 12,
     "BEGIN; ALTER TYPE mood ADD VALUE 'meh'; COMMIT;", false},
    {"enum_in_tx_15", "enum-add-value-in-transaction", 15,
     "BEGIN; ALTER TYPE mood ADD VALUE 'meh'; COMMIT;", false},
    {"enum_no_tx_11", "enum-add-value-in-transaction", 11, "ALTER TYPE mood ADD VALUE 'meh';",
     false},
    {"enum_rename_in_tx_11", "enum-add-value-in-transaction", 11,
     "BEGIN; ALTER TYPE mood RENAME VALUE 'a' TO 'b'; COMMIT;", false},
};

INSTANTIATE_TEST_SUITE_P(LockingRules, RuleCaseTest, ::testing::ValuesIn(kLockingCases), CaseName);
[[maybe_unused]] const bool kLockingRegistered = RegisterRuleCases(kLockingCases);

}  // namespace
}  // namespace zerodown::sql::testing
