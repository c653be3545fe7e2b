// The hygiene rules' rewrites are whole statements the user can paste: the statement as written
// with only the column's type replaced, which parses and no longer draws the rule.
#include <gtest/gtest.h>

#include "lint_test_util.hpp"

namespace zerodown::sql::testing {
namespace {

struct RewriteCase {
  const char* rule;
  int version;
  const char* sql;
  const char* rewrite;
};

const RewriteCase kCases[] = {
    {"prefer-timestamptz", 15, "CREATE TABLE t (at timestamp NOT NULL DEFAULT now(), n int)",
     "CREATE TABLE t (at timestamptz NOT NULL DEFAULT now(), n int);"},
    {"prefer-timestamptz", 15, "ALTER TABLE t ADD COLUMN at timestamp(3) without time zone",
     "ALTER TABLE t ADD COLUMN at timestamptz(3);"},
    {"prefer-timestamptz", 15, "CREATE TABLE t (a int, at timestamp)",
     "CREATE TABLE t (a int, at timestamptz);"},
    {"prefer-bigint-primary-key", 15, "CREATE TABLE t (id int PRIMARY KEY, v text)",
     "CREATE TABLE t (id bigint PRIMARY KEY, v text);"},
    {"prefer-bigint-primary-key", 15, "CREATE TABLE t (id serial, PRIMARY KEY (id))",
     "CREATE TABLE t (id bigint GENERATED ALWAYS AS IDENTITY, PRIMARY KEY (id));"},
    {"prefer-bigint-primary-key", 9, "CREATE TABLE t (id serial PRIMARY KEY)",
     "CREATE TABLE t (id bigserial PRIMARY KEY);"},
    {"prefer-identity", 15, "CREATE TABLE t (id bigserial PRIMARY KEY)",
     "CREATE TABLE t (id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY);"},
    {"prefer-text", 15, "CREATE TABLE t (name varchar(100) COLLATE \"C\", b numeric(10, 2))",
     "CREATE TABLE t (name text CHECK (char_length(name) <= 100) COLLATE \"C\", b numeric(10, "
     "2));"},
};

TEST(HygieneRewrites, AreTheStatementWithOnlyTheTypeReplaced) {
  for (const RewriteCase& c : kCases) {
    SCOPED_TRACE(c.sql);
    auto findings = LintOrDie(c.sql, c.version);
    const Finding* finding = FindRule(findings, c.rule);
    ASSERT_NE(finding, nullptr) << c.rule;
    EXPECT_EQ(finding->fix, c.rewrite);
    // Pasted, it parses and the rule has nothing left to say.
    EXPECT_EQ(CountRule(LintOrDie(finding->fix, c.version), c.rule), 0) << finding->fix;
  }
}

}  // namespace
}  // namespace zerodown::sql::testing
