#include "zerodown/sql/config.hpp"

#include <gtest/gtest.h>

namespace zerodown::sql {
namespace {

TEST(LintConfig, ReadsEveryKey) {
  auto config = ParseLintConfig(
      "pg-version: 11\nfail-on: warning\nexclude: [prefer-text, drop-table]\n", "c.yaml");
  ASSERT_TRUE(config.ok()) << config.error().Describe();
  EXPECT_EQ(config->pg_version, 11);
  EXPECT_EQ(config->fail_on, Severity::kWarning);
  EXPECT_EQ(config->exclude, (std::set<std::string>{"prefer-text", "drop-table"}));
}

TEST(LintConfig, EmptyFileIsDefaults) {
  auto config = ParseLintConfig("", "c.yaml");
  ASSERT_TRUE(config.ok());
  EXPECT_FALSE(config->pg_version.has_value());
  EXPECT_FALSE(config->fail_on.has_value());
}

TEST(LintConfig, RejectsUnknownKeysRulesAndValues) {
  auto bad_key = ParseLintConfig("pg_version: 11\n", "c.yaml");
  ASSERT_FALSE(bad_key.ok());
  EXPECT_EQ(bad_key.error().kind(), ErrorKind::kUsage);
  EXPECT_EQ(bad_key.error().where(), "c.yaml");
  EXPECT_FALSE(ParseLintConfig("exclude: [no-such-rule]\n", "c.yaml").ok());
  EXPECT_FALSE(ParseLintConfig("fail-on: fatal\n", "c.yaml").ok());
  EXPECT_FALSE(ParseLintConfig("pg-version: 3\n", "c.yaml").ok());
  EXPECT_FALSE(ParseLintConfig("pg-version: [1\n", "c.yaml").ok());
}

TEST(LintConfig, MissingFileIsNotFound) {
  auto config = LoadLintConfig("/nonexistent/.zerodown-lint.yaml");
  ASSERT_FALSE(config.ok());
  EXPECT_EQ(config.error().kind(), ErrorKind::kNotFound);
}

}  // namespace
}  // namespace zerodown::sql
