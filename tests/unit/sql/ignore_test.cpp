#include <gtest/gtest.h>

#include "lint_test_util.hpp"

namespace zerodown::sql {
namespace {

using testing::CountRule;
using testing::LintOrDie;

TEST(IgnoreComment, OnTheLineBeforeSilencesThatStatementOnly) {
  auto findings = LintOrDie(
      "SET lock_timeout = '1s';\n"
      "-- zerodown-ignore: require-concurrent-index\n"
      "CREATE INDEX a ON t (a);\n"
      "CREATE INDEX b ON t (b);\n");
  ASSERT_EQ(CountRule(findings, "require-concurrent-index"), 1);
  EXPECT_EQ(findings[0].line, 4);
}

TEST(IgnoreComment, AtTheEndOfTheStatement) {
  auto findings = LintOrDie(
      "SET lock_timeout = '1s';\n"
      "CREATE INDEX a ON t (a); -- zerodown-ignore: require-concurrent-index\n"
      "CREATE INDEX b ON t (b);\n");
  ASSERT_EQ(CountRule(findings, "require-concurrent-index"), 1);
  EXPECT_EQ(findings[0].line, 3);
}

TEST(IgnoreComment, SeveralRulesAndBlockComments) {
  auto findings = LintOrDie(
      "/* zerodown-ignore: require-concurrent-index, require-lock-timeout */\n"
      "CREATE INDEX a ON t (a);\n");
  EXPECT_TRUE(findings.empty());
}

TEST(IgnoreComment, OtherRulesStillReport) {
  auto findings = LintOrDie(
      "-- zerodown-ignore: prefer-text\n"
      "CREATE INDEX a ON t (a);\n");
  EXPECT_EQ(CountRule(findings, "require-concurrent-index"), 1);
}

TEST(IgnoreComment, AllSilencesEveryRule) {
  auto findings = LintOrDie("VACUUM FULL t; -- zerodown-ignore: all\n");
  EXPECT_TRUE(findings.empty());
}

TEST(IgnoreComment, CommentInsideAStringIsNotAComment) {
  auto findings = LintOrDie(
      "SET lock_timeout = '1s';\n"
      "CREATE INDEX a ON t ((a || '-- zerodown-ignore: require-concurrent-index'));\n");
  EXPECT_EQ(CountRule(findings, "require-concurrent-index"), 1);
}

TEST(IgnoreComment, MultiLineStatementTrailingComment) {
  auto findings = LintOrDie(
      "SET lock_timeout = '1s';\n"
      "ALTER TABLE t\n"
      "  ADD COLUMN c int DEFAULT random(); -- zerodown-ignore: add-column-volatile-default\n");
  EXPECT_EQ(CountRule(findings, "add-column-volatile-default"), 0);
}

}  // namespace
}  // namespace zerodown::sql
