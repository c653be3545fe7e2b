// Index rules: CREATE INDEX, DROP INDEX and REINDEX without CONCURRENTLY, and CONCURRENTLY inside a
// transaction block.
// Each case fires on the unsafe form or stays quiet on the safe one (see rule_case.hpp).
#include "rule_case.hpp"

namespace zerodown::sql::testing {
namespace {

const RuleCase kIndexCases[] = {
    {"create_index", "require-concurrent-index", 15, "CREATE INDEX i ON t (a);", true},
    {"create_unique_index", "require-concurrent-index", 15,
     "CREATE UNIQUE INDEX IF NOT EXISTS i ON t (a);", true},
    {"create_index_concurrently", "require-concurrent-index", 15,
     "CREATE INDEX CONCURRENTLY i ON t (a);", false},
    {"create_index_on_new_table", "require-concurrent-index", 15,
     "CREATE TABLE t (a int); CREATE INDEX i ON t (a);", false},
    {"drop_index", "require-concurrent-index", 15, "DROP INDEX i;", true},
    {"drop_index_concurrently", "require-concurrent-index", 15, "DROP INDEX CONCURRENTLY i;",
     false},
    {"reindex_15", "require-concurrent-index", 15, "REINDEX TABLE t;", true},
    {"reindex_concurrently_15", "require-concurrent-index", 15, "REINDEX TABLE CONCURRENTLY t;",
     false},
    {"reindex_concurrently_12", "require-concurrent-index", 12, "REINDEX INDEX CONCURRENTLY i;",
     false},
    {"reindex_concurrently_11", "require-concurrent-index", 11, "REINDEX INDEX CONCURRENTLY i;",
     true},
    {"reindex_10", "require-concurrent-index", 10, "REINDEX INDEX i;", true},
    {"cic_in_tx", "concurrently-in-transaction", 15,
     "BEGIN; CREATE INDEX CONCURRENTLY i ON t (a); COMMIT;", true},
    {"drop_concurrently_in_tx", "concurrently-in-transaction", 15,
     "BEGIN; DROP INDEX CONCURRENTLY i; COMMIT;", true},
    {"reindex_concurrently_in_tx", "concurrently-in-transaction", 15,
     "START TRANSACTION; REINDEX TABLE CONCURRENTLY t; COMMIT;", true},
    {"vacuum_in_tx", "concurrently-in-transaction", 15, "BEGIN; VACUUM t; COMMIT;", true},
    {"cic_after_commit", "concurrently-in-transaction", 15,
     "BEGIN; ALTER TABLE t ADD COLUMN c int; COMMIT; CREATE INDEX CONCURRENTLY i ON t (c);", false},
    {"cic_after_rollback", "concurrently-in-transaction", 15,
     "BEGIN; SELECT 1; ROLLBACK; CREATE INDEX CONCURRENTLY i ON t (a);", false},
    {"cic_alone", "concurrently-in-transaction", 15, "CREATE INDEX CONCURRENTLY i ON t (a);",
     false},
};

INSTANTIATE_TEST_SUITE_P(IndexRules, RuleCaseTest, ::testing::ValuesIn(kIndexCases), CaseName);
[[maybe_unused]] const bool kIndexRegistered = RegisterRuleCases(kIndexCases);

}  // namespace
}  // namespace zerodown::sql::testing
