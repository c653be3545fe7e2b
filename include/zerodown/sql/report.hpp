// Rendering lint findings for people and for tools: plain text, JSON, SARIF 2.1.0 (code
// scanning) and GitHub Actions workflow annotations. Pure functions from findings to text; it
// does not write anywhere.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "zerodown/sql/lint.hpp"

namespace zerodown::sql {

enum class ReportFormat { kText, kJson, kSarif, kGithub };

// Parses "text" / "json" / "sarif" / "github"; nullopt for anything else.
std::optional<ReportFormat> ParseReportFormat(std::string_view name);

// `file:line:col: severity rule-id: message`, then the fix indented, one finding after another,
// and a one-line summary. Empty findings give "no findings".
std::string RenderText(const std::vector<Finding>& findings);

// {"findings": [{"rule", "severity", "file", "line", "column", "message", "fix"}...]}
std::string RenderJson(const std::vector<Finding>& findings);

// A SARIF 2.1.0 log with one run whose tool.driver lists every rule.
std::string RenderSarif(const std::vector<Finding>& findings);

// One `::error file=…,line=…,col=…,title=rule-id::message` line per finding (warning for
// warnings, notice for info), escaped as the workflow-command syntax requires.
std::string RenderGithub(const std::vector<Finding>& findings);

std::string Render(ReportFormat format, const std::vector<Finding>& findings);

}  // namespace zerodown::sql
