// Constraint rules: scans and index builds under a strong lock, and NOT VALID + VALIDATE in
// one transaction.
// Each case fires on the unsafe form or stays quiet on the safe one (see rule_case.hpp).
#include "rule_case.hpp"

namespace zerodown::sql::testing {
namespace {

const RuleCase kConstraintCases[] = {
    {"add_fk", "constraint-without-not-valid", 15,
     "ALTER TABLE t ADD CONSTRAINT fk FOREIGN KEY (u_id) REFERENCES u (id);", true},
    {"add_check", "constraint-without-not-valid", 15, "ALTER TABLE t ADD CHECK (a > 0);", true},
    {"add_fk_not_valid", "constraint-without-not-valid", 15,
     "ALTER TABLE t ADD CONSTRAINT fk FOREIGN KEY (u_id) REFERENCES u (id) NOT VALID;", false},
    {"add_check_not_valid", "constraint-without-not-valid", 15,
     "ALTER TABLE t ADD CONSTRAINT c CHECK (a > 0) NOT VALID;", false},
    {"validate", "constraint-without-not-valid", 15, "ALTER TABLE t VALIDATE CONSTRAINT c;", false},
    {"add_unique", "unique-without-index", 15, "ALTER TABLE t ADD CONSTRAINT u UNIQUE (a);", true},
    {"add_primary_key", "unique-without-index", 15, "ALTER TABLE t ADD PRIMARY KEY (id);", true},
    {"add_column_unique", "unique-without-index", 15, "ALTER TABLE t ADD COLUMN code text UNIQUE;",
     true},
    {"add_unique_using_index", "unique-without-index", 15,
     "ALTER TABLE t ADD CONSTRAINT u UNIQUE USING INDEX u_idx;", false},
    {"add_pk_using_index", "unique-without-index", 15,
     "ALTER TABLE t ADD CONSTRAINT pk PRIMARY KEY USING INDEX pk_idx;", false},
    {"exclude_gist", "add-exclusion-constraint", 15,
     "ALTER TABLE b ADD CONSTRAINT no_overlap EXCLUDE USING gist (during WITH &&);", true},
    {"exclude_on_new_table", "add-exclusion-constraint", 15,
     "CREATE TABLE b (during tstzrange); ALTER TABLE b ADD EXCLUDE USING gist (during WITH &&);",
     false},
    {"not_valid_validate_same_tx", "lock-held-during-scan", 15,
     "BEGIN; ALTER TABLE t ADD CONSTRAINT c CHECK (a > 0) NOT VALID;\n"
     "ALTER TABLE t VALIDATE CONSTRAINT c; COMMIT;",
     true},
    {"fk_not_valid_validate_same_tx", "lock-held-during-scan", 15,
     "BEGIN; ALTER TABLE t ADD CONSTRAINT fk FOREIGN KEY (u) REFERENCES u (id) NOT VALID;\n"
     "ALTER TABLE t VALIDATE CONSTRAINT fk; COMMIT;",
     true},
    {"backfill_in_alter_tx", "lock-held-during-scan", 15,
     "BEGIN; ALTER TABLE t ADD COLUMN c int; UPDATE t SET c = 0; COMMIT;", true},
    {"batch_update_in_alter_tx", "lock-held-during-scan", 15,
     "BEGIN; ALTER TABLE t ADD COLUMN c int; UPDATE t SET c = 0 WHERE id < 100; COMMIT;", false},
    {"not_valid_validate_two_tx", "lock-held-during-scan", 15,
     "BEGIN; ALTER TABLE t ADD CONSTRAINT c CHECK (a > 0) NOT VALID; COMMIT;\n"
     "BEGIN; ALTER TABLE t VALIDATE CONSTRAINT c; COMMIT;",
     false},
    {"not_valid_validate_autocommit", "lock-held-during-scan", 15,
     "ALTER TABLE t ADD CONSTRAINT c CHECK (a > 0) NOT VALID; ALTER TABLE t VALIDATE CONSTRAINT c;",
     false},
    {"validate_other_table_same_tx", "lock-held-during-scan", 15,
     "BEGIN; ALTER TABLE a ADD COLUMN c int; ALTER TABLE b VALIDATE CONSTRAINT x; COMMIT;", false},
};

INSTANTIATE_TEST_SUITE_P(ConstraintRules, RuleCaseTest, ::testing::ValuesIn(kConstraintCases),
                         CaseName);
[[maybe_unused]] const bool kConstraintRegistered = RegisterRuleCases(kConstraintCases);

// The rewrites are SQL that `zerodown plan` runs (tests/integration/lint_rewrites_pass_plan_test):
// a unique index for an equality-only EXCLUDE, the column before its index, batches after COMMIT.
TEST(ConstraintRewrites, AreStatementsPlanCanRun) {
  auto findings =
      LintOrDie("ALTER TABLE c ADD CONSTRAINT one_email EXCLUDE USING btree (email WITH =);");
  ASSERT_NE(FindRule(findings, "add-exclusion-constraint"), nullptr);
  EXPECT_EQ(FindRule(findings, "add-exclusion-constraint")->fix.find("SET lock_timeout"),
            std::string::npos);
  EXPECT_NE(FindRule(findings, "add-exclusion-constraint")
                ->fix.find("CREATE UNIQUE INDEX CONCURRENTLY one_email ON c (email);"),
            std::string::npos);
  findings = LintOrDie(
      "ALTER TABLE c ADD CONSTRAINT one_email EXCLUDE USING btree (email WITH =) WHERE (a > 0);");
  EXPECT_NE(FindRule(findings, "add-exclusion-constraint")->fix.find("no online form"),
            std::string::npos);

  findings = LintOrDie("ALTER TABLE c ADD COLUMN handle text NOT NULL UNIQUE;");
  ASSERT_NE(FindRule(findings, "unique-without-index"), nullptr);
  EXPECT_EQ(FindRule(findings, "unique-without-index")->fix,
            "ALTER TABLE c ADD COLUMN handle text;\n"
            "CREATE UNIQUE INDEX CONCURRENTLY c_handle_key_idx ON c (handle);\n"
            "ALTER TABLE c ADD CONSTRAINT c_handle_key UNIQUE USING INDEX c_handle_key_idx;");

  findings = LintOrDie("BEGIN; ALTER TABLE e DROP COLUMN p; DELETE FROM e; COMMIT;");
  ASSERT_NE(FindRule(findings, "lock-held-during-scan"), nullptr);
  EXPECT_NE(FindRule(findings, "lock-held-during-scan")
                ->fix.find("COMMIT;\n-- DELETE FROM e WHERE <key> IN (SELECT <key> FROM e LIMIT"),
            std::string::npos);
}

}  // namespace
}  // namespace zerodown::sql::testing
