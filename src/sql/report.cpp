#include "zerodown/sql/report.hpp"

#include <map>
#include <nlohmann/json.hpp>

namespace zerodown::sql {
namespace {

constexpr const char* kSarifSchema = "https://json.schemastore.org/sarif-2.1.0.json";
constexpr const char* kRulesUri =
    "https://github.com/zerodown/zerodown/blob/main/docs/lint-rules.md";

std::string SarifLevel(Severity severity) {
  switch (severity) {
    case Severity::kError:
      return "error";
    case Severity::kWarning:
      return "warning";
    case Severity::kInfo:
      return "note";
  }
  return "error";
}

// Workflow commands end at a newline and split properties at ',' and ':' (GitHub's
// escapeData / escapeProperty in @actions/core).
std::string EscapeData(std::string_view text) {
  std::string out;
  for (char c : text) {
    if (c == '%') {
      out += "%25";
    } else if (c == '\r') {
      out += "%0D";
    } else if (c == '\n') {
      out += "%0A";
    } else {
      out += c;
    }
  }
  return out;
}

std::string EscapeProperty(std::string_view text) {
  std::string out;
  for (char c : EscapeData(text)) {
    if (c == ':') {
      out += "%3A";
    } else if (c == ',') {
      out += "%2C";
    } else {
      out += c;
    }
  }
  return out;
}

std::string Indent(std::string_view text, std::string_view prefix) {
  std::string out(prefix);
  for (char c : text) {
    out += c;
    if (c == '\n') out += prefix;
  }
  return out;
}

}  // namespace

std::optional<ReportFormat> ParseReportFormat(std::string_view name) {
  if (name == "text") return ReportFormat::kText;
  if (name == "json") return ReportFormat::kJson;
  if (name == "sarif") return ReportFormat::kSarif;
  if (name == "github") return ReportFormat::kGithub;
  return std::nullopt;
}

std::string RenderText(const std::vector<Finding>& findings) {
  std::string out;
  std::map<Severity, int> counts;
  for (const Finding& f : findings) {
    ++counts[f.severity];
    out += f.file + ":" + std::to_string(f.line) + ":" + std::to_string(f.column) + ": " +
           std::string(SeverityName(f.severity)) + " " + f.rule_id + ": " + f.message + "\n";
    if (!f.fix.empty()) out += "  fix:\n" + Indent(f.fix, "    ") + "\n";
  }
  if (findings.empty()) return "no findings\n";
  auto plural = [](int n, const char* word) {
    return std::to_string(n) + " " + word + (n == 1 ? "" : "s");
  };
  out += plural(static_cast<int>(findings.size()), "finding") + ": " +
         plural(counts[Severity::kError], "error") + ", " +
         plural(counts[Severity::kWarning], "warning") + ", " +
         std::to_string(counts[Severity::kInfo]) + " info\n";
  return out;
}

std::string RenderJson(const std::vector<Finding>& findings) {
  nlohmann::json list = nlohmann::json::array();
  for (const Finding& f : findings) {
    list.push_back({{"rule", f.rule_id},
                    {"severity", SeverityName(f.severity)},
                    {"file", f.file},
                    {"line", f.line},
                    {"column", f.column},
                    {"message", f.message},
                    {"fix", f.fix}});
  }
  return nlohmann::json{{"findings", list}}.dump(2) + "\n";
}

std::string RenderSarif(const std::vector<Finding>& findings) {
  nlohmann::json rules = nlohmann::json::array();
  std::map<std::string, int> index;
  for (const RuleInfo& rule : ListRules()) {
    index[rule.id] = static_cast<int>(rules.size());
    rules.push_back({{"id", rule.id},
                     {"name", rule.id},
                     {"shortDescription", {{"text", rule.summary}}},
                     {"helpUri", std::string(kRulesUri) + "#" + rule.id},
                     {"defaultConfiguration", {{"level", SarifLevel(rule.severity)}}}});
  }
  nlohmann::json results = nlohmann::json::array();
  for (const Finding& f : findings) {
    nlohmann::json result = {
        {"ruleId", f.rule_id},
        {"level", SarifLevel(f.severity)},
        {"message", {{"text", f.fix.empty() ? f.message : f.message + "\nFix:\n" + f.fix}}},
        {"locations",
         {{{"physicalLocation",
            {{"artifactLocation", {{"uri", f.file}}},
             {"region", {{"startLine", f.line}, {"startColumn", f.column}}}}}}}},
        {"properties", {{"fix", f.fix}}}};
    if (auto it = index.find(f.rule_id); it != index.end()) result["ruleIndex"] = it->second;
    results.push_back(std::move(result));
  }
  nlohmann::json log = {{"$schema", kSarifSchema},
                        {"version", "2.1.0"},
                        {"runs",
                         {{{"tool",
                            {{"driver",
                              {{"name", "zerodown"},
                               {"informationUri", "https://github.com/zerodown/zerodown"},
                               {"rules", rules}}}}},
                           {"results", results}}}}};
  return log.dump(2) + "\n";
}

std::string RenderGithub(const std::vector<Finding>& findings) {
  std::string out;
  for (const Finding& f : findings) {
    const char* command = f.severity == Severity::kError     ? "error"
                          : f.severity == Severity::kWarning ? "warning"
                                                             : "notice";
    out += std::string("::") + command + " file=" + EscapeProperty(f.file) +
           ",line=" + std::to_string(f.line) + ",col=" + std::to_string(f.column) +
           ",title=" + EscapeProperty(f.rule_id) +
           "::" + EscapeData(f.fix.empty() ? f.message : f.message + "\nFix:\n" + f.fix) + "\n";
  }
  return out;
}

std::string Render(ReportFormat format, const std::vector<Finding>& findings) {
  switch (format) {
    case ReportFormat::kText:
      return RenderText(findings);
    case ReportFormat::kJson:
      return RenderJson(findings);
    case ReportFormat::kSarif:
      return RenderSarif(findings);
    case ReportFormat::kGithub:
      return RenderGithub(findings);
  }
  return RenderText(findings);
}

}  // namespace zerodown::sql
