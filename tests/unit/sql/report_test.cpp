#include "zerodown/sql/report.hpp"

#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include "lint_test_util.hpp"

namespace zerodown::sql {
namespace {

std::vector<Finding> Sample() {
  Finding error;
  error.rule_id = "require-concurrent-index";
  error.severity = Severity::kError;
  error.file = "m/004.sql";
  error.line = 3;
  error.column = 7;
  error.message = "CREATE INDEX takes a SHARE lock, which blocks writes: 100%, a,b";
  error.fix = "CREATE INDEX CONCURRENTLY i ON t (a);\n-- outside a transaction";
  Finding info = error;
  info.rule_id = "prefer-text";
  info.severity = Severity::kInfo;
  info.line = 9;
  info.fix.clear();
  return {error, info};
}

TEST(RenderText, FileLineColSeverityRuleMessageThenFix) {
  const std::string text = RenderText(Sample());
  EXPECT_NE(text.find("m/004.sql:3:7: error require-concurrent-index: CREATE INDEX takes"),
            std::string::npos);
  EXPECT_NE(text.find("  fix:\n    CREATE INDEX CONCURRENTLY i ON t (a);\n    -- outside"),
            std::string::npos);
  EXPECT_NE(text.find("m/004.sql:9:7: info prefer-text:"), std::string::npos);
  EXPECT_NE(text.find("2 findings: 1 error, 0 warnings, 1 info"), std::string::npos);
  EXPECT_EQ(RenderText({}), "no findings\n");
}

TEST(RenderJson, ListsEveryField) {
  auto json = nlohmann::json::parse(RenderJson(Sample()));
  ASSERT_EQ(json["findings"].size(), 2u);
  const auto& first = json["findings"][0];
  EXPECT_EQ(first["rule"], "require-concurrent-index");
  EXPECT_EQ(first["severity"], "error");
  EXPECT_EQ(first["file"], "m/004.sql");
  EXPECT_EQ(first["line"], 3);
  EXPECT_EQ(first["column"], 7);
  EXPECT_EQ(first["fix"], Sample()[0].fix);
}

TEST(RenderSarif, IsAValidSarif210Log) {
  auto log = nlohmann::json::parse(RenderSarif(Sample()));
  EXPECT_EQ(log["version"], "2.1.0");
  EXPECT_TRUE(log.contains("$schema"));
  ASSERT_EQ(log["runs"].size(), 1u);
  const auto& run = log["runs"][0];
  EXPECT_EQ(run["tool"]["driver"]["name"], "zerodown");
  const auto& rules = run["tool"]["driver"]["rules"];
  EXPECT_EQ(rules.size(), ListRules().size());
  for (const auto& rule : rules) {
    EXPECT_TRUE(rule["id"].is_string());
    EXPECT_TRUE(rule["shortDescription"]["text"].is_string());
  }
  ASSERT_EQ(run["results"].size(), 2u);
  const auto& result = run["results"][0];
  EXPECT_EQ(result["ruleId"], "require-concurrent-index");
  EXPECT_EQ(result["level"], "error");
  EXPECT_EQ(rules[result["ruleIndex"].get<int>()]["id"], "require-concurrent-index");
  EXPECT_TRUE(result["message"]["text"].is_string());
  const auto& location = result["locations"][0]["physicalLocation"];
  EXPECT_EQ(location["artifactLocation"]["uri"], "m/004.sql");
  EXPECT_EQ(location["region"]["startLine"], 3);
  EXPECT_EQ(location["region"]["startColumn"], 7);
  EXPECT_EQ(run["results"][1]["level"], "note");
}

TEST(RenderGithub, OneEscapedWorkflowCommandPerFinding) {
  const std::string out = RenderGithub(Sample());
  EXPECT_EQ(out.rfind("::error file=m/004.sql,line=3,col=7,title=require-concurrent-index::", 0),
            0u);
  EXPECT_NE(out.find("100%25, a,b%0AFix:%0ACREATE INDEX CONCURRENTLY"), std::string::npos);
  EXPECT_NE(out.find("\n::notice file=m/004.sql,line=9,col=7,title=prefer-text::"),
            std::string::npos);
  EXPECT_EQ(std::count(out.begin(), out.end(), '\n'), 2);
}

TEST(ParseReportFormat, KnowsEveryFormat) {
  EXPECT_EQ(ParseReportFormat("sarif"), ReportFormat::kSarif);
  EXPECT_EQ(ParseReportFormat("github"), ReportFormat::kGithub);
  EXPECT_FALSE(ParseReportFormat("xml").has_value());
}

}  // namespace
}  // namespace zerodown::sql
