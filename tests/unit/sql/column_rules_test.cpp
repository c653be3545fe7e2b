// Column rules: ADD COLUMN defaults, NOT NULL and domains, ALTER COLUMN TYPE, SET NOT NULL.
// Each case fires on the unsafe form or stays quiet on the safe one (see rule_case.hpp).
#include "rule_case.hpp"

namespace zerodown::sql::testing {
namespace {

const RuleCase kColumnCases[] = {
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
    {"int_to_bigint", "column-type-rewrite", 15, "ALTER TABLE t ALTER COLUMN a TYPE bigint;", true},
    {"unknown_to_text_warns", "column-type-rewrite", 15, "ALTER TABLE t ALTER COLUMN a TYPE text;",
     true},
    {"using_rewrites", "column-type-rewrite", 15,
     "ALTER TABLE t ALTER COLUMN a TYPE int USING a::int;", true},
    {"new_table_no_finding", "column-type-rewrite", 15,
     "CREATE TABLE t (a int); ALTER TABLE t ALTER COLUMN a TYPE bigint;", false},
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
};

INSTANTIATE_TEST_SUITE_P(ColumnRules, RuleCaseTest, ::testing::ValuesIn(kColumnCases), CaseName);
[[maybe_unused]] const bool kColumnRegistered = RegisterRuleCases(kColumnCases);

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

}  // namespace
}  // namespace zerodown::sql::testing
