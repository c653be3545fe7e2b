// Every rule fires on the unsafe form and stays quiet on the safe one: the cases live in one file
// per rule family (*_rules_test.cpp), version-dependent ones at PostgreSQL 10, 11, 12 and 15.
// Here: the case runner, the check that every rule has both kinds of case, and what the findings
// say.
#include <gtest/gtest.h>

#include "rule_case.hpp"

namespace zerodown::sql {

namespace testing {

TEST_P(RuleCaseTest, FiresOnlyOnTheUnsafeForm) {
  const RuleCase& c = GetParam();
  auto findings = LintOrDie(c.sql, c.version);
  if (c.fires) {
    EXPECT_GE(CountRule(findings, c.rule), 1) << c.rule << " should fire on:\n" << c.sql;
  } else {
    EXPECT_EQ(CountRule(findings, c.rule), 0) << c.rule << " should not fire on:\n" << c.sql;
  }
}

}  // namespace testing

namespace {

using testing::CountRule;
using testing::FindRule;
using testing::LintOrDie;
using testing::RuleCase;

TEST(Rules, EveryRuleHasAPositiveAndANegativeCase) {
  for (const RuleInfo& rule : ListRules()) {
    bool positive = false;
    bool negative = false;
    for (const RuleCase& c : testing::AllRuleCases()) {
      if (rule.id != c.rule) continue;
      (c.fires ? positive : negative) = true;
    }
    EXPECT_TRUE(positive) << rule.id;
    EXPECT_TRUE(negative) << rule.id;
  }
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
