// Helpers shared by the lint unit tests.
#pragma once

#include <algorithm>
#include <string>
#include <vector>

#include "zerodown/sql/lint.hpp"

namespace zerodown::sql::testing {

// The findings for `sql` linted for PostgreSQL `version`; a parse error fails the test.
inline std::vector<Finding> LintOrDie(const std::string& sql, int version = 15) {
  LintOptions options;
  options.pg_version = version;
  auto result = LintSql("test.sql", sql, options);
  if (!result.ok()) {
    ADD_FAILURE() << "parse error: " << result.error().Describe() << "\n" << sql;
    return {};
  }
  return *result;
}

inline int CountRule(const std::vector<Finding>& findings, const std::string& rule) {
  return static_cast<int>(std::count_if(findings.begin(), findings.end(),
                                        [&](const Finding& f) { return f.rule_id == rule; }));
}

inline const Finding* FindRule(const std::vector<Finding>& findings, const std::string& rule) {
  for (const auto& f : findings) {
    if (f.rule_id == rule) return &f;
  }
  return nullptr;
}

}  // namespace zerodown::sql::testing
