// docs/lint-rules.md is executable: every rule has a section whose bad example triggers it and
// whose good example does not.
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <map>
#include <sstream>

#include "lint_test_util.hpp"

namespace zerodown::sql {
namespace {

struct DocSection {
  int pg_version = 15;
  std::vector<std::string> bad;
  std::vector<std::string> good;
};

std::filesystem::path RepoRoot() {
  // The checkout this binary was built from (tests/CMakeLists.txt defines it): __FILE__ may be
  // relative when a compiler cache rewrites paths.
  return std::filesystem::path(ZERODOWN_SOURCE_DIR);
}

// "## rule-id" starts a section; "Bad:" / "Good:" name the next ```sql block;
// "<!-- pg-version: N -->" sets the version for the section.
std::map<std::string, DocSection> ReadRuleDocs(const std::filesystem::path& path) {
  std::ifstream in(path);
  std::map<std::string, DocSection> sections;
  std::string line;
  std::string rule;
  std::string label;
  std::string block;
  bool in_block = false;
  while (std::getline(in, line)) {
    if (in_block) {
      if (line == "```") {
        in_block = false;
        if (!rule.empty() && label == "Bad:") sections[rule].bad.push_back(block);
        if (!rule.empty() && label == "Good:") sections[rule].good.push_back(block);
        label.clear();
      } else {
        block += line + "\n";
      }
      continue;
    }
    if (line.rfind("## ", 0) == 0) {
      rule = line.substr(3);
      sections[rule];
    } else if (line == "Bad:" || line == "Good:") {
      label = line;
    } else if (line == "```sql") {
      in_block = true;
      block.clear();
    } else if (line.rfind("<!-- pg-version: ", 0) == 0 && !rule.empty()) {
      sections[rule].pg_version = std::stoi(line.substr(17));
    }
  }
  return sections;
}

TEST(LintRulesDoc, EveryRuleHasABadAndAGoodExampleThatTheLinterAgreesWith) {
  const auto path = RepoRoot() / "docs" / "lint-rules.md";
  ASSERT_TRUE(std::filesystem::exists(path)) << path;
  const auto sections = ReadRuleDocs(path);
  for (const RuleInfo& rule : ListRules()) {
    SCOPED_TRACE(rule.id);
    auto it = sections.find(rule.id);
    ASSERT_NE(it, sections.end()) << "docs/lint-rules.md has no section ## " << rule.id;
    const DocSection& section = it->second;
    ASSERT_FALSE(section.bad.empty()) << "no Bad: example";
    ASSERT_FALSE(section.good.empty()) << "no Good: example";
    for (const auto& sql : section.bad) {
      EXPECT_GE(testing::CountRule(testing::LintOrDie(sql, section.pg_version), rule.id), 1)
          << "bad example does not trigger " << rule.id << ":\n"
          << sql;
    }
    for (const auto& sql : section.good) {
      EXPECT_EQ(testing::CountRule(testing::LintOrDie(sql, section.pg_version), rule.id), 0)
          << "good example triggers " << rule.id << ":\n"
          << sql;
    }
  }
}

TEST(LintRulesDoc, DocumentsNoRuleThatDoesNotExist) {
  for (const auto& [id, section] : ReadRuleDocs(RepoRoot() / "docs" / "lint-rules.md")) {
    EXPECT_TRUE(IsKnownRule(id)) << "docs/lint-rules.md documents unknown rule " << id;
  }
}

}  // namespace
}  // namespace zerodown::sql
