// Every error and warning `zerodown lint` reports on the corpus (tests/lint/corpus) carries a
// rewrite, and `zerodown plan` accepts that rewrite on a real server holding the corpus schema:
// the safe form the linter proposes is one zerodown can run. The exceptions are named: a rewrite
// that only sets a session variable or gives advice (nothing for plan to run), one whose SQL has
// placeholders the user fills in, and an exclusion constraint, which has no online form.
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <map>
#include <set>
#include <sstream>

#include "support/database.hpp"
#include "support/lint_corpus.hpp"
#include "zerodown/sql/lint.hpp"
#include "zerodown/sql/parse.hpp"

namespace zerodown::sql {
namespace {

using zerodown::testing::ReadText;
std::filesystem::path CorpusDir() { return zerodown::testing::LintCorpusDir(); }

int PgVersion(const std::string& text) {
  return std::stoi(zerodown::testing::CorpusHeader(text).at("pg-version"));
}

// What a rewrite holds for plan.
enum class RewriteKind { kStatements, kSessionOnly, kTemplate };

RewriteKind Classify(const std::string& fix) {
  auto parsed = ParseSql("fix.sql", fix);
  if (!parsed.ok()) return RewriteKind::kTemplate;  // <placeholders> do not parse
  for (const Statement& statement : parsed->statements) {
    if (statement.kind != "VariableSetStmt" && statement.kind != "TransactionStmt") {
      return RewriteKind::kStatements;
    }
  }
  return RewriteKind::kSessionOnly;
}

// The findings of one corpus case, linted after schema.sql as the next file of one run.
std::vector<Finding> LintCase(const std::string& name, const std::string& text) {
  LintOptions options;
  options.pg_version = PgVersion(text);
  Linter linter(options);
  auto schema = ParseSql("schema.sql", ReadText(CorpusDir() / "schema.sql"));
  if (!schema.ok()) ADD_FAILURE() << schema.error().Describe();
  if (!schema.ok()) return {};
  (void)linter.Lint(*schema);
  auto parsed = ParseSql(name + ".sql", text);
  if (!parsed.ok()) ADD_FAILURE() << name << ": " << parsed.error().Describe();
  if (!parsed.ok()) return {};
  return linter.Lint(*parsed);
}

int Plan(const std::string& conninfo, const std::string& sql, const std::string& flags,
         std::string* out) {
  const auto path = std::filesystem::temp_directory_path() / "zerodown_lint_rewrite.sql";
  std::ofstream(path) << sql << "\n";
  return testing::RunZerodown("--postgres-url " + testing::Quoted(conninfo) + " plan " + flags +
                                  testing::Quoted(path.string()),
                              out);
}

TEST(LintRewrites, ZerodownPlanAcceptsEachCorpusRewrite) {
  const std::string conninfo = testing::FreshDatabase();
  testing::Connect(conninfo).Run(ReadText(CorpusDir() / "schema.sql"));
  std::set<std::string> session_only;  // "case rule"
  std::set<std::string> templates;
  std::set<std::string> refused;
  int planned = 0;
  for (const auto& entry : std::filesystem::directory_iterator(CorpusDir())) {
    if (entry.path().extension() != ".sql" || entry.path().stem() == "schema") continue;
    const std::string name = entry.path().stem().string();
    const std::string text = ReadText(entry.path());
    for (const Finding& finding : LintCase(name, text)) {
      if (finding.severity < Severity::kWarning) continue;
      SCOPED_TRACE(name + " " + finding.rule_id + ":\n" + finding.fix);
      ASSERT_FALSE(finding.fix.empty()) << "an error or warning without a rewrite";
      const std::string label = name + " " + finding.rule_id;
      const RewriteKind kind = Classify(finding.fix);
      if (kind == RewriteKind::kSessionOnly) {
        session_only.insert(finding.rule_id);
        continue;
      }
      if (kind == RewriteKind::kTemplate) {
        templates.insert(label);
        continue;
      }
      std::string out;
      const int code = Plan(conninfo, finding.fix, "", &out);
      if (code != 0) {
        refused.insert(label);
        // The one rewrite with no online form runs as written when the user allows it.
        EXPECT_EQ(Plan(conninfo, finding.fix, "--allow-blocking ", &out), 0) << out;
      }
      ++planned;
    }
  }
  EXPECT_GE(planned, 60);
  // Rewrites that only set lock_timeout or point at another tool (pg_repack): nothing to plan.
  EXPECT_EQ(session_only, (std::set<std::string>{"cluster", "lock-table", "require-lock-timeout"}));
  // REINDEX before PostgreSQL 12: the copy's table and columns are the user's to fill in.
  EXPECT_EQ(templates, (std::set<std::string>{"reindex-concurrently-11 require-concurrent-index",
                                              "reindex-index-11 require-concurrent-index"}));
  // A gist EXCLUDE has no online form in PostgreSQL: plan refuses it without --allow-blocking.
  EXPECT_EQ(refused, (std::set<std::string>{"add-exclusion add-exclusion-constraint"}));
}

}  // namespace
}  // namespace zerodown::sql
