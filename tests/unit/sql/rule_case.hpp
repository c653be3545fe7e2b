// One lint rule case, shared by the rule families' tests (*_rules_test.cpp): the rule, the target
// PostgreSQL version, the SQL, and whether the rule fires on it. rules_test.cpp runs every case
// and checks that each rule has at least one case of each kind.
#pragma once

#include <gtest/gtest.h>

#include <ostream>
#include <string>
#include <vector>

#include "lint_test_util.hpp"

namespace zerodown::sql::testing {

struct RuleCase {
  const char* name;
  const char* rule;
  int version;
  const char* sql;
  bool fires;
};

inline void PrintTo(const RuleCase& c, std::ostream* os) { *os << c.name; }

// The parameterized suite each family instantiates with its cases.
class RuleCaseTest : public ::testing::TestWithParam<RuleCase> {};

// The case's name as the test's name.
inline std::string CaseName(const ::testing::TestParamInfo<RuleCase>& info) {
  return info.param.name;
}

// Every family's cases.
inline std::vector<RuleCase>& AllRuleCases() {
  static std::vector<RuleCase> cases;
  return cases;
}

// Adds a family's cases to AllRuleCases; returns true, for a namespace-scope initializer.
template <std::size_t N>
bool RegisterRuleCases(const RuleCase (&cases)[N]) {
  AllRuleCases().insert(AllRuleCases().end(), cases, cases + N);
  return true;
}

}  // namespace zerodown::sql::testing
