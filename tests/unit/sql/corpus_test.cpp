// The labelled corpus (tests/lint/corpus): zerodown flags exactly the dangerous cases, each with
// an error from the rule the label names and a fix to paste, and nothing in the safe ones.
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <map>
#include <sstream>

#include "lint_test_util.hpp"
#include "support/lint_corpus.hpp"
#include "zerodown/sql/translate.hpp"

namespace zerodown::sql {
namespace {

using zerodown::testing::ReadText;
std::filesystem::path CorpusDir() { return zerodown::testing::LintCorpusDir(); }

struct CorpusCase {
  std::string name;
  std::string text;
  std::map<std::string, std::string> header;  // "verdict" -> "dangerous", ...
};

std::vector<CorpusCase> LoadCorpus() {
  std::vector<CorpusCase> cases;
  for (const auto& entry : std::filesystem::directory_iterator(CorpusDir())) {
    if (entry.path().extension() != ".sql" || entry.path().stem() == "schema") continue;
    CorpusCase c{entry.path().stem().string(), ReadText(entry.path()), {}};
    c.header = zerodown::testing::CorpusHeader(c.text);
    cases.push_back(std::move(c));
  }
  std::sort(cases.begin(), cases.end(),
            [](const CorpusCase& a, const CorpusCase& b) { return a.name < b.name; });
  return cases;
}

// The case's findings, linted after schema.sql as the next file of the same run.
std::vector<Finding> LintCase(const CorpusCase& c) {
  LintOptions options;
  options.pg_version = std::stoi(c.header.at("pg-version"));
  Linter linter(options);
  auto schema = ParseSql("schema.sql", ReadText(CorpusDir() / "schema.sql"));
  EXPECT_TRUE(schema.ok());
  if (!schema.ok()) return {};
  (void)linter.Lint(*schema);
  auto parsed = ParseSql(c.name + ".sql", c.text);
  EXPECT_TRUE(parsed.ok()) << c.name << ": " << (parsed.ok() ? "" : parsed.error().Describe());
  if (!parsed.ok()) return {};
  return linter.Lint(*parsed);
}

// A reviewer's reading: a warning or error from any rule but the lock_timeout reminder.
bool Flagged(const Finding& f) {
  return f.severity >= Severity::kWarning && f.rule_id != "require-lock-timeout";
}

TEST(LintCorpus, HasEnoughLabelledCasesOfBothKinds) {
  int dangerous = 0;
  int safe = 0;
  for (const CorpusCase& c : LoadCorpus()) {
    for (const char* key : {"verdict", "pg-version", "lock", "effect", "reason"}) {
      EXPECT_EQ(c.header.count(key), 1u) << c.name << " has no `-- " << key << ":` line";
    }
    const std::string verdict = c.header.count("verdict") ? c.header.at("verdict") : "";
    EXPECT_TRUE(verdict == "dangerous" || verdict == "safe") << c.name << ": " << verdict;
    (verdict == "dangerous" ? dangerous : safe)++;
    EXPECT_EQ(c.header.count("rule"), verdict == "dangerous" ? 1u : 0u) << c.name;
  }
  EXPECT_GE(dangerous + safe, 120);
  EXPECT_GE(dangerous * 10, (dangerous + safe) * 4) << "about half the cases are dangerous";
  EXPECT_GE(safe * 10, (dangerous + safe) * 4) << "about half the cases are safe";
}

TEST(LintCorpus, EveryVerdictIsRight) {
  for (const CorpusCase& c : LoadCorpus()) {
    SCOPED_TRACE(c.name);
    const auto findings = LintCase(c);
    std::string report;
    for (const Finding& f : findings) {
      report +=
          "  " + std::string(SeverityName(f.severity)) + " " + f.rule_id + ": " + f.message + "\n";
      if (Flagged(f)) {
        EXPECT_FALSE(f.fix.empty()) << f.rule_id << " gives no fix";
      }
    }
    const bool flagged = std::any_of(findings.begin(), findings.end(), Flagged);
    if (c.header.at("verdict") == "safe") {
      EXPECT_FALSE(flagged) << c.name << " is safe (" << c.header.at("reason") << ") but:\n"
                            << report;
      continue;
    }
    const std::string rule = c.header.at("rule");
    const bool caught = std::any_of(findings.begin(), findings.end(), [&](const Finding& f) {
      return f.rule_id == rule && f.severity == Severity::kError;
    });
    EXPECT_TRUE(caught) << c.name << " is dangerous (" << c.header.at("reason")
                        << ") and needs an error from " << rule << "; got:\n"
                        << report;
  }
}

// The rewrites zerodown plan cannot take: an EXCLUDE other than an equality-only btree has no
// online form in PostgreSQL (the rewrite bounds it with timeouts), and REINDEX before PostgreSQL
// 12 rewrites to a copy and swap whose table and columns the user fills in (<placeholders>).
// tests/integration/lint_rewrites_pass_plan_test.cpp plans the others on a real server.
bool PlanCannotTake(const CorpusCase& c, const Finding& f) {
  if (f.rule_id == "add-exclusion-constraint") {
    return f.fix.find("no online form") != std::string::npos;
  }
  return f.rule_id == "require-concurrent-index" && std::stoi(c.header.at("pg-version")) < 12 &&
         f.fix.find("<its columns>") != std::string::npos;
}

// True when the fix has a statement zerodown would run (not only SET, BEGIN, COMMIT).
bool HasChange(const ParsedFile& fix) {
  return std::any_of(fix.statements.begin(), fix.statements.end(), [](const Statement& s) {
    return s.kind != "VariableSetStmt" && s.kind != "TransactionStmt";
  });
}

TEST(LintCorpus, EveryFixIsSqlThatZerodownPlanAccepts) {
  for (const CorpusCase& c : LoadCorpus()) {
    if (c.header.at("verdict") != "dangerous") continue;
    for (const Finding& f : LintCase(c)) {
      if (!Flagged(f)) continue;
      SCOPED_TRACE(c.name + " " + f.rule_id + " fix:\n" + f.fix);
      if (PlanCannotTake(c, f)) continue;
      auto fix = ParseSql("fix.sql", f.fix);
      EXPECT_TRUE(fix.ok()) << "the fix is not SQL: " << (fix.ok() ? "" : fix.error().Describe());
      if (!fix.ok() || !HasChange(*fix)) continue;
      auto plan = TranslateSql(*fix, TranslateOptions{});
      EXPECT_TRUE(plan.ok()) << "zerodown plan refuses the fix: "
                             << (plan.ok() ? "" : plan.error().Describe());
    }
  }
}

}  // namespace
}  // namespace zerodown::sql
