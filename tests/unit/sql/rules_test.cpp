// Every rule fires on the unsafe form and stays quiet on the safe one; version-dependent rules
// are checked at PostgreSQL 10, 11, 12 and 15.
#include <gtest/gtest.h>

#include "lint_test_util.hpp"

namespace zerodown::sql {
namespace {

using testing::CountRule;
using testing::FindRule;
using testing::LintOrDie;

struct RuleCase {
  const char* name;
  const char* rule;
  int version;
  const char* sql;
  bool fires;
};

void PrintTo(const RuleCase& c, std::ostream* os) { *os << c.name; }

class RuleCaseTest : public ::testing::TestWithParam<RuleCase> {};

TEST_P(RuleCaseTest, FiresOnlyOnTheUnsafeForm) {
  const RuleCase& c = GetParam();
  auto findings = LintOrDie(c.sql, c.version);
  if (c.fires) {
    EXPECT_GE(CountRule(findings, c.rule), 1) << c.rule << " should fire on:\n" << c.sql;
  } else {
    EXPECT_EQ(CountRule(findings, c.rule), 0) << c.rule << " should not fire on:\n" << c.sql;
  }
}

const RuleCase kCases[] = {
    // require-concurrent-index
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
    // concurrently-in-transaction
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
    // add-column-volatile-default
    {"volatile_default_15", "add-column-volatile-default", 15,
     "ALTER TABLE t ADD COLUMN id uuid DEFAULT gen_random_uuid();", true},
    {"volatile_default_in_cast_15", "add-column-volatile-default", 15,
     "ALTER TABLE t ADD COLUMN r int DEFAULT (random() * 10)::int;", true},
    {"clock_timestamp_12", "add-column-volatile-default", 12,
     "ALTER TABLE t ADD COLUMN c timestamptz DEFAULT clock_timestamp();", true},
    {"constant_default_15", "add-column-volatile-default", 15,
     "ALTER TABLE t ADD COLUMN c int NOT NULL DEFAULT 0;", false},
    {"now_default_15", "add-column-volatile-default", 15,
     "ALTER TABLE t ADD COLUMN c timestamptz DEFAULT now();", false},
    {"current_timestamp_default_11", "add-column-volatile-default", 11,
     "ALTER TABLE t ADD COLUMN c timestamptz DEFAULT CURRENT_TIMESTAMP;", false},
    {"constant_default_11", "add-column-volatile-default", 11,
     "ALTER TABLE t ADD COLUMN c text DEFAULT 'x';", false},
    {"volatile_default_11", "add-column-volatile-default", 11,
     "ALTER TABLE t ADD COLUMN c float8 DEFAULT random();", true},
    {"constant_default_10", "add-column-volatile-default", 10,
     "ALTER TABLE t ADD COLUMN c int DEFAULT 0;", true},
    {"null_default_10", "add-column-volatile-default", 10,
     "ALTER TABLE t ADD COLUMN c int DEFAULT NULL;", false},
    {"no_default_10", "add-column-volatile-default", 10, "ALTER TABLE t ADD COLUMN c int;", false},
    {"serial_column_15", "add-column-volatile-default", 15, "ALTER TABLE t ADD COLUMN n bigserial;",
     true},
    {"identity_column_15", "add-column-volatile-default", 15,
     "ALTER TABLE t ADD COLUMN n bigint GENERATED ALWAYS AS IDENTITY;", true},
    {"stored_generated_15", "add-column-volatile-default", 15,
     "ALTER TABLE t ADD COLUMN n int GENERATED ALWAYS AS (a + 1) STORED;", true},
    {"unknown_function_15", "add-column-volatile-default", 15,
     "ALTER TABLE t ADD COLUMN n int DEFAULT my_func();", true},
    {"default_on_new_table", "add-column-volatile-default", 15,
     "CREATE TABLE t (a int); ALTER TABLE t ADD COLUMN id uuid DEFAULT gen_random_uuid();", false},
    // add-column-not-null-without-default
    {"not_null_no_default", "add-column-not-null-without-default", 15,
     "ALTER TABLE t ADD COLUMN c text NOT NULL;", true},
    {"primary_key_column", "add-column-not-null-without-default", 15,
     "ALTER TABLE t ADD COLUMN id bigint PRIMARY KEY;", true},
    {"not_null_with_default", "add-column-not-null-without-default", 15,
     "ALTER TABLE t ADD COLUMN c text NOT NULL DEFAULT '';", false},
    {"not_null_null_default", "add-column-not-null-without-default", 15,
     "ALTER TABLE t ADD COLUMN c text NOT NULL DEFAULT NULL;", true},
    {"not_null_identity", "add-column-not-null-without-default", 15,
     "ALTER TABLE t ADD COLUMN n bigint NOT NULL GENERATED ALWAYS AS IDENTITY;", false},
    {"not_null_serial", "add-column-not-null-without-default", 15,
     "ALTER TABLE t ADD COLUMN n bigserial NOT NULL;", false},
    {"not_null_new_table", "add-column-not-null-without-default", 15,
     "CREATE TABLE t (a int); ALTER TABLE t ADD COLUMN c text NOT NULL;", false},
    // add-column-constrained-domain
    {"domain_with_check", "add-column-constrained-domain", 15,
     "CREATE DOMAIN pos AS int CHECK (VALUE > 0); ALTER TABLE t ADD COLUMN c pos;", true},
    {"domain_not_null", "add-column-constrained-domain", 15,
     "CREATE DOMAIN d AS text; ALTER DOMAIN d SET NOT NULL; ALTER TABLE t ADD COLUMN c d;", true},
    {"domain_unconstrained", "add-column-constrained-domain", 15,
     "CREATE DOMAIN d AS text; ALTER TABLE t ADD COLUMN c d;", false},
    {"builtin_type", "add-column-constrained-domain", 15, "ALTER TABLE t ADD COLUMN c uuid;",
     false},
    {"unknown_type_is_info", "add-column-constrained-domain", 15,
     "ALTER TABLE t ADD COLUMN c mystery_type;", true},
    // add-exclusion-constraint
    {"exclude_gist", "add-exclusion-constraint", 15,
     "ALTER TABLE b ADD CONSTRAINT no_overlap EXCLUDE USING gist (during WITH &&);", true},
    {"exclude_on_new_table", "add-exclusion-constraint", 15,
     "CREATE TABLE b (during tstzrange); ALTER TABLE b ADD EXCLUDE USING gist (during WITH &&);",
     false},
    // lock-held-during-scan
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
    // column-type-rewrite
    {"int_to_bigint", "column-type-rewrite", 15, "ALTER TABLE t ALTER COLUMN a TYPE bigint;", true},
    {"unknown_to_text_warns", "column-type-rewrite", 15, "ALTER TABLE t ALTER COLUMN a TYPE text;",
     true},
    {"using_rewrites", "column-type-rewrite", 15,
     "ALTER TABLE t ALTER COLUMN a TYPE int USING a::int;", true},
    {"new_table_no_finding", "column-type-rewrite", 15,
     "CREATE TABLE t (a int); ALTER TABLE t ALTER COLUMN a TYPE bigint;", false},
    // set-not-null
    {"set_not_null_15", "set-not-null", 15, "ALTER TABLE t ALTER COLUMN a SET NOT NULL;", true},
    {"set_not_null_after_validated_check_15", "set-not-null", 15,
     "ALTER TABLE t ADD CONSTRAINT a_nn CHECK (a IS NOT NULL) NOT VALID;\n"
     "ALTER TABLE t VALIDATE CONSTRAINT a_nn;\n"
     "ALTER TABLE t ALTER COLUMN a SET NOT NULL;",
     false},
    {"set_not_null_after_validated_check_12", "set-not-null", 12,
     "ALTER TABLE t ADD CONSTRAINT a_nn CHECK (a IS NOT NULL AND b IS NOT NULL) NOT VALID;\n"
     "ALTER TABLE t VALIDATE CONSTRAINT a_nn;\n"
     "ALTER TABLE t ALTER COLUMN b SET NOT NULL;",
     false},
    {"set_not_null_after_check_added_valid_15", "set-not-null", 15,
     "ALTER TABLE t ADD CONSTRAINT a_nn CHECK (a IS NOT NULL);\n"
     "ALTER TABLE t ALTER COLUMN a SET NOT NULL;",
     false},
    {"set_not_null_check_not_validated_15", "set-not-null", 15,
     "ALTER TABLE t ADD CONSTRAINT a_nn CHECK (a IS NOT NULL) NOT VALID;\n"
     "ALTER TABLE t ALTER COLUMN a SET NOT NULL;",
     true},
    {"set_not_null_check_on_other_column_15", "set-not-null", 15,
     "ALTER TABLE t ADD CONSTRAINT b_nn CHECK (b IS NOT NULL);\n"
     "ALTER TABLE t ALTER COLUMN a SET NOT NULL;",
     true},
    {"set_not_null_after_validated_check_11", "set-not-null", 11,
     "ALTER TABLE t ADD CONSTRAINT a_nn CHECK (a IS NOT NULL) NOT VALID;\n"
     "ALTER TABLE t VALIDATE CONSTRAINT a_nn;\n"
     "ALTER TABLE t ALTER COLUMN a SET NOT NULL;",
     true},
    {"set_not_null_10", "set-not-null", 10, "ALTER TABLE t ALTER COLUMN a SET NOT NULL;", true},
    // constraint-without-not-valid
    {"add_fk", "constraint-without-not-valid", 15,
     "ALTER TABLE t ADD CONSTRAINT fk FOREIGN KEY (u_id) REFERENCES u (id);", true},
    {"add_check", "constraint-without-not-valid", 15, "ALTER TABLE t ADD CHECK (a > 0);", true},
    {"add_fk_not_valid", "constraint-without-not-valid", 15,
     "ALTER TABLE t ADD CONSTRAINT fk FOREIGN KEY (u_id) REFERENCES u (id) NOT VALID;", false},
    {"add_check_not_valid", "constraint-without-not-valid", 15,
     "ALTER TABLE t ADD CONSTRAINT c CHECK (a > 0) NOT VALID;", false},
    {"validate", "constraint-without-not-valid", 15, "ALTER TABLE t VALIDATE CONSTRAINT c;", false},
    // unique-without-index
    {"add_unique", "unique-without-index", 15, "ALTER TABLE t ADD CONSTRAINT u UNIQUE (a);", true},
    {"add_primary_key", "unique-without-index", 15, "ALTER TABLE t ADD PRIMARY KEY (id);", true},
    {"add_column_unique", "unique-without-index", 15, "ALTER TABLE t ADD COLUMN code text UNIQUE;",
     true},
    {"add_unique_using_index", "unique-without-index", 15,
     "ALTER TABLE t ADD CONSTRAINT u UNIQUE USING INDEX u_idx;", false},
    {"add_pk_using_index", "unique-without-index", 15,
     "ALTER TABLE t ADD CONSTRAINT pk PRIMARY KEY USING INDEX pk_idx;", false},
    // rename-column, rename-table
    {"rename_column", "rename-column", 15, "ALTER TABLE t RENAME COLUMN a TO b;", true},
    {"rename_column_new_table", "rename-column", 15,
     "CREATE TABLE t (a int); ALTER TABLE t RENAME COLUMN a TO b;", false},
    {"rename_constraint_not_column", "rename-column", 15, "ALTER TABLE t RENAME CONSTRAINT a TO b;",
     false},
    {"rename_table", "rename-table", 15, "ALTER TABLE t RENAME TO u;", true},
    {"rename_column_is_not_table", "rename-table", 15, "ALTER TABLE t RENAME a TO b;", false},
    // drop-column, drop-table
    {"drop_column", "drop-column", 15, "ALTER TABLE t DROP COLUMN a;", true},
    {"drop_constraint", "drop-column", 15, "ALTER TABLE t DROP CONSTRAINT c;", false},
    {"drop_table", "drop-table", 15, "DROP TABLE IF EXISTS t;", true},
    {"drop_view", "drop-table", 15, "DROP VIEW v;", false},
    {"drop_new_table", "drop-table", 15, "CREATE TABLE t (a int); DROP TABLE t;", false},
    // vacuum-full, cluster, lock-table
    {"vacuum_full", "vacuum-full", 15, "VACUUM FULL t;", true},
    {"vacuum_full_options", "vacuum-full", 15, "VACUUM (FULL, ANALYZE) t;", true},
    {"vacuum_plain", "vacuum-full", 15, "VACUUM (ANALYZE) t;", false},
    {"cluster", "cluster", 15, "CLUSTER t USING t_pkey;", true},
    {"analyze_not_cluster", "cluster", 15, "ANALYZE t;", false},
    {"lock_table_default", "lock-table", 15, "BEGIN; LOCK TABLE t; COMMIT;", true},
    {"lock_table_share", "lock-table", 15, "BEGIN; LOCK TABLE t IN SHARE MODE; COMMIT;", true},
    {"lock_table_row_exclusive", "lock-table", 15,
     "BEGIN; LOCK TABLE t IN ROW EXCLUSIVE MODE; COMMIT;", false},
    // require-lock-timeout
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
    // transaction-multiple-locks
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
    // enum-add-value-in-transaction
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
    // type advice
    {"int_pk", "prefer-bigint-primary-key", 15, "CREATE TABLE t (id int PRIMARY KEY);", true},
    {"serial_pk", "prefer-bigint-primary-key", 15, "CREATE TABLE t (id serial PRIMARY KEY);", true},
    {"table_pk_int", "prefer-bigint-primary-key", 15,
     "CREATE TABLE t (id integer, PRIMARY KEY (id));", true},
    {"bigint_pk", "prefer-bigint-primary-key", 15,
     "CREATE TABLE t (id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY);", false},
    {"int_not_pk", "prefer-bigint-primary-key", 15, "CREATE TABLE t (n int);", false},
    {"serial", "prefer-identity", 15, "CREATE TABLE t (id bigserial PRIMARY KEY);", true},
    {"identity", "prefer-identity", 15,
     "CREATE TABLE t (id bigint GENERATED BY DEFAULT AS IDENTITY);", false},
    {"varchar_n", "prefer-text", 15, "CREATE TABLE t (name varchar(100));", true},
    {"varchar_n_add_column", "prefer-text", 15, "ALTER TABLE t ADD COLUMN name varchar(100);",
     true},
    {"text", "prefer-text", 15, "CREATE TABLE t (name text, other varchar);", false},
    {"timestamp", "prefer-timestamptz", 15, "CREATE TABLE t (at timestamp);", true},
    {"timestamp_precision", "prefer-timestamptz", 15,
     "ALTER TABLE t ADD COLUMN at timestamp(3) without time zone;", true},
    {"timestamptz", "prefer-timestamptz", 15,
     "CREATE TABLE t (at timestamptz, b timestamp with time zone);", false},
};

INSTANTIATE_TEST_SUITE_P(Rules, RuleCaseTest, ::testing::ValuesIn(kCases),
                         [](const auto& info) { return std::string(info.param.name); });

TEST(Rules, EveryRuleHasAPositiveAndANegativeCase) {
  for (const RuleInfo& rule : ListRules()) {
    bool positive = false;
    bool negative = false;
    for (const RuleCase& c : kCases) {
      if (rule.id != c.rule) continue;
      (c.fires ? positive : negative) = true;
    }
    EXPECT_TRUE(positive) << rule.id;
    EXPECT_TRUE(negative) << rule.id;
  }
}

// ALTER COLUMN TYPE, judged against the type an earlier file declared.
struct TypeChange {
  const char* from;
  const char* to;
  int version;
  bool fires;
  Severity severity;
};

class ColumnTypeRewriteTest : public ::testing::TestWithParam<TypeChange> {};

TEST_P(ColumnTypeRewriteTest, KnowsTheBinaryCoercibleChanges) {
  const TypeChange& c = GetParam();
  LintOptions options;
  options.pg_version = c.version;
  Linter linter(options);
  auto create = ParseSql("001.sql", std::string("CREATE TABLE t (id bigint, c ") + c.from + ");");
  ASSERT_TRUE(create.ok());
  (void)linter.Lint(*create);
  auto alter = ParseSql("002.sql", std::string("ALTER TABLE t ALTER COLUMN c TYPE ") + c.to + ";");
  ASSERT_TRUE(alter.ok());
  auto findings = linter.Lint(*alter);
  const Finding* finding = FindRule(findings, "column-type-rewrite");
  EXPECT_EQ(finding != nullptr, c.fires) << c.from << " -> " << c.to << " on " << c.version;
  if (finding != nullptr && c.fires) {
    EXPECT_EQ(finding->severity, c.severity);
  }
}

const TypeChange kTypeChanges[] = {
    {"varchar(10)", "varchar(20)", 15, false, Severity::kError},
    {"varchar(10)", "varchar(20)", 10, false, Severity::kError},
    {"varchar(20)", "varchar(10)", 15, true, Severity::kError},
    {"varchar(10)", "varchar", 15, false, Severity::kError},
    {"varchar(10)", "text", 15, false, Severity::kError},
    {"text", "varchar", 15, false, Severity::kError},
    {"text", "varchar(10)", 15, true, Severity::kError},
    {"numeric(10,2)", "numeric(12,2)", 15, false, Severity::kError},
    {"numeric(10,2)", "numeric(12,3)", 15, true, Severity::kError},
    {"numeric(10,2)", "numeric(8,2)", 15, true, Severity::kError},
    {"numeric(10,2)", "numeric", 11, false, Severity::kError},
    {"numeric", "numeric(10,2)", 15, true, Severity::kError},
    {"int", "bigint", 15, true, Severity::kError},
    {"int", "int4", 15, false, Severity::kError},
    {"cidr", "inet", 15, false, Severity::kError},
    {"timestamp(3)", "timestamp(6)", 15, false, Severity::kError},
    {"timestamp", "timestamptz", 11, true, Severity::kError},
    {"timestamp", "timestamptz", 12, true, Severity::kWarning},
    {"timestamp", "timestamptz", 15, true, Severity::kWarning},
    {"text", "jsonb", 15, true, Severity::kError},
};

INSTANTIATE_TEST_SUITE_P(Rules, ColumnTypeRewriteTest, ::testing::ValuesIn(kTypeChanges));

TEST(ColumnTypeRewrite, UnknownCurrentTypeIsInfoForPossibleNoRewriteTargets) {
  auto findings = LintOrDie("ALTER TABLE t ALTER COLUMN a TYPE varchar(50);");
  const Finding* finding = FindRule(findings, "column-type-rewrite");
  ASSERT_NE(finding, nullptr);
  EXPECT_EQ(finding->severity, Severity::kInfo);
  EXPECT_NE(finding->message.find("depends on the column's current type"), std::string::npos);
  findings = LintOrDie("ALTER TABLE t ALTER COLUMN a TYPE bigint;");
  ASSERT_NE(FindRule(findings, "column-type-rewrite"), nullptr);
  EXPECT_EQ(FindRule(findings, "column-type-rewrite")->severity, Severity::kError);
}

TEST(ColumnTypeRewrite, TracksEarlierChangesInTheSameRun) {
  Linter linter(LintOptions{});
  auto create = ParseSql("001.sql", "CREATE TABLE t (c varchar(10));");
  ASSERT_TRUE(create.ok());
  (void)linter.Lint(*create);
  auto alter = ParseSql("002.sql",
                        "ALTER TABLE t ALTER COLUMN c TYPE varchar(20);\n"
                        "ALTER TABLE t ALTER COLUMN c TYPE varchar(15);");
  ASSERT_TRUE(alter.ok());
  auto findings = linter.Lint(*alter);
  ASSERT_EQ(CountRule(findings, "column-type-rewrite"), 1);
  EXPECT_EQ(FindRule(findings, "column-type-rewrite")->line, 2);
}

TEST(Messages, StateTheLockLevelAndTheSafeRewrite) {
  auto findings = LintOrDie("CREATE INDEX idx ON orders (created_at);");
  const Finding* finding = FindRule(findings, "require-concurrent-index");
  ASSERT_NE(finding, nullptr);
  EXPECT_NE(finding->message.find("SHARE lock"), std::string::npos);
  EXPECT_NE(finding->message.find("blocks INSERT, UPDATE and DELETE"), std::string::npos);
  EXPECT_NE(finding->fix.find("CREATE INDEX CONCURRENTLY idx ON orders (created_at)"),
            std::string::npos);
  EXPECT_EQ(finding->line, 1);
  EXPECT_EQ(finding->column, 21);  // at the table name

  findings = LintOrDie("ALTER TABLE t ADD CONSTRAINT fk FOREIGN KEY (u_id) REFERENCES u (id);");
  finding = FindRule(findings, "constraint-without-not-valid");
  ASSERT_NE(finding, nullptr);
  EXPECT_NE(finding->message.find("SHARE ROW EXCLUSIVE"), std::string::npos);
  EXPECT_NE(finding->fix.find("ADD CONSTRAINT fk FOREIGN KEY (u_id) REFERENCES u (id) NOT VALID"),
            std::string::npos);
  EXPECT_NE(finding->fix.find("VALIDATE CONSTRAINT fk"), std::string::npos);

  findings = LintOrDie("ALTER TABLE t ALTER COLUMN a SET NOT NULL;", 12);
  finding = FindRule(findings, "set-not-null");
  ASSERT_NE(finding, nullptr);
  EXPECT_NE(finding->message.find("ACCESS EXCLUSIVE"), std::string::npos);
  EXPECT_NE(finding->fix.find("CHECK (a IS NOT NULL) NOT VALID"), std::string::npos);
}

TEST(Exclude, SkipsExcludedRules) {
  LintOptions options;
  options.exclude = {"require-concurrent-index"};
  auto findings = LintSql("x.sql", "CREATE INDEX i ON t (a);", options);
  ASSERT_TRUE(findings.ok());
  EXPECT_EQ(CountRule(*findings, "require-concurrent-index"), 0);
  EXPECT_EQ(CountRule(*findings, "require-lock-timeout"), 1);
}

TEST(Severity, ThresholdsCompareAtOrAbove) {
  std::vector<Finding> findings(1);
  findings[0].severity = Severity::kWarning;
  EXPECT_TRUE(HasFindingAtOrAbove(findings, Severity::kInfo));
  EXPECT_TRUE(HasFindingAtOrAbove(findings, Severity::kWarning));
  EXPECT_FALSE(HasFindingAtOrAbove(findings, Severity::kError));
  EXPECT_EQ(ParseSeverity("warning"), Severity::kWarning);
  EXPECT_FALSE(ParseSeverity("fatal").has_value());
}

}  // namespace
}  // namespace zerodown::sql

namespace zerodown::sql {
namespace {

TEST(Names, QuotedAndQualifiedTablesMatchTheirCreateTable) {
  auto findings = testing::LintOrDie(
      "CREATE TABLE app.\"Orders\" (id bigint PRIMARY KEY);\n"
      "CREATE INDEX i ON app.\"Orders\" (id);\n"
      "DROP TABLE app.\"Orders\";\n");
  EXPECT_EQ(testing::CountRule(findings, "require-concurrent-index"), 0);
  EXPECT_EQ(testing::CountRule(findings, "drop-table"), 0);
}

}  // namespace
}  // namespace zerodown::sql
