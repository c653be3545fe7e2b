#include "zerodown/sql/lint.hpp"

#include <algorithm>
#include <map>

#include "sql/rules/rule.hpp"

namespace zerodown::sql {
namespace {

constexpr std::string_view kIgnoreMarker = "zerodown-ignore:";

// The rule ids named by a `-- zerodown-ignore: a, b` or `/* zerodown-ignore: a */` comment.
std::vector<std::string> IgnoredRules(std::string_view comment) {
  std::vector<std::string> ids;
  const std::size_t marker = comment.find(kIgnoreMarker);
  if (marker == std::string_view::npos) return ids;
  std::string_view rest = comment.substr(marker + kIgnoreMarker.size());
  if (const std::size_t close = rest.find("*/"); close != std::string_view::npos) {
    rest = rest.substr(0, close);
  }
  std::string current;
  for (char c : rest) {
    if (c == ',' || c == ' ' || c == '\t' || c == '\r' || c == '\n') {
      if (!current.empty()) ids.push_back(std::move(current));
      current.clear();
    } else {
      current += c;
    }
  }
  if (!current.empty()) ids.push_back(std::move(current));
  return ids;
}

// Statement index -> rule ids silenced for it. A comment silences the statement it trails (on
// the line where that statement ends) or else the next statement after it.
std::map<std::size_t, std::vector<std::string>> IgnoresByStatement(const ParsedFile& file) {
  std::map<std::size_t, std::vector<std::string>> ignores;
  const auto& statements = file.statements;
  for (const Comment& comment : file.comments) {
    std::vector<std::string> ids = IgnoredRules(comment.text);
    if (ids.empty()) continue;
    auto next = std::lower_bound(
        statements.begin(), statements.end(), comment.end,
        [](const Statement& statement, std::size_t offset) { return statement.begin < offset; });
    std::size_t target = static_cast<std::size_t>(next - statements.begin());
    if (next != statements.begin()) {
      const Statement& previous = *(next - 1);
      if (previous.finish.line == comment.start.line && comment.begin >= previous.end) {
        target = static_cast<std::size_t>(next - statements.begin()) - 1;
      }
    }
    if (target >= statements.size()) continue;
    auto& list = ignores[target];
    list.insert(list.end(), ids.begin(), ids.end());
  }
  return ignores;
}

}  // namespace

std::string_view SeverityName(Severity severity) {
  switch (severity) {
    case Severity::kInfo:
      return "info";
    case Severity::kWarning:
      return "warning";
    case Severity::kError:
      return "error";
  }
  return "error";
}

std::optional<Severity> ParseSeverity(std::string_view name) {
  if (name == "info") return Severity::kInfo;
  if (name == "warning") return Severity::kWarning;
  if (name == "error") return Severity::kError;
  return std::nullopt;
}

std::vector<RuleInfo> ListRules() {
  std::vector<RuleInfo> out;
  for (const auto& rule : rules::Registry()) out.push_back(rule->Info());
  return out;
}

bool IsKnownRule(std::string_view id) {
  for (const auto& rule : rules::Registry()) {
    if (rule->Info().id == id) return true;
  }
  return false;
}

static std::vector<Finding> LintWithKnown(const ParsedFile& file, const LintOptions& options,
                                          const rules::KnownSchema& known) {
  rules::LintContext context(file, options, known);
  std::vector<rules::RawFinding> raw;
  for (const auto& rule : rules::Registry()) {
    if (options.exclude.count(rule->Info().id) > 0) continue;
    rules::Reporter reporter(context, rule->Info(), raw);
    rule->Check(context, reporter);
  }

  const auto ignores = IgnoresByStatement(file);
  std::vector<Finding> findings;
  findings.reserve(raw.size());
  for (auto& item : raw) {
    const auto index = static_cast<std::size_t>(item.statement - file.statements.data());
    if (auto it = ignores.find(index); it != ignores.end()) {
      const auto& ids = it->second;
      if (std::find(ids.begin(), ids.end(), item.finding.rule_id) != ids.end() ||
          std::find(ids.begin(), ids.end(), "all") != ids.end()) {
        continue;
      }
    }
    findings.push_back(std::move(item.finding));
  }
  std::stable_sort(findings.begin(), findings.end(), [](const Finding& a, const Finding& b) {
    return a.line != b.line ? a.line < b.line : a.column < b.column;
  });
  return findings;
}

std::vector<Finding> Lint(const ParsedFile& file, const LintOptions& options) {
  const rules::KnownSchema known = rules::SeedKnownSchema(options);
  return LintWithKnown(file, options, known);
}

struct Linter::State {
  rules::KnownSchema known;
};

Linter::Linter(LintOptions options)
    : options_(std::move(options)), state_(std::make_unique<State>()) {
  state_->known = rules::SeedKnownSchema(options_);
}
Linter::~Linter() = default;

std::vector<Finding> Linter::Lint(const ParsedFile& file) {
  auto findings = LintWithKnown(file, options_, state_->known);
  for (const Statement& statement : file.statements) {
    rules::RecordDefinitions(statement, state_->known);
  }
  return findings;
}

Result<std::vector<Finding>> LintSql(std::string path, std::string text,
                                     const LintOptions& options) {
  auto parsed = ParseSql(std::move(path), std::move(text));
  if (!parsed.ok()) return parsed.error();
  return Lint(*parsed, options);
}

bool HasFindingAtOrAbove(const std::vector<Finding>& findings, Severity threshold) {
  return std::any_of(findings.begin(), findings.end(),
                     [threshold](const Finding& f) { return f.severity >= threshold; });
}

}  // namespace zerodown::sql
