#include <fmt/format.h>

#include "zerodown/verify/verify.hpp"

namespace zerodown::verify {
namespace {

std::string Join(const std::vector<std::string>& parts) {
  std::string text;
  for (std::size_t i = 0; i < parts.size(); ++i) text += (i ? ", " : "") + parts[i];
  return text;
}

// "id" or "(region, id)"; "42" or "(eu, 42)".
std::string Tuple(const std::vector<std::string>& parts) {
  return parts.size() == 1 ? parts.front() : "(" + Join(parts) + ")";
}

std::string Plural(std::int64_t n, std::string_view word) {
  return fmt::format("{} {}{}", n, word, n == 1 ? "" : "s");
}

// A side of a sample: SQL NULL for CompareRows; for CompareTables no row at all.
std::string Side(const std::optional<std::string>& value, bool tables) {
  if (value) return *value;
  return tables ? "(no row)" : "NULL";
}

nlohmann::json KeyJson(const std::optional<std::vector<std::string>>& key) {
  return key ? nlohmann::json(*key) : nlohmann::json(nullptr);
}

nlohmann::json SideJson(const std::optional<std::string>& value) {
  return value ? nlohmann::json(*value) : nlohmann::json(nullptr);
}

}  // namespace

std::string FormatKey(const std::vector<std::string>& key_columns,
                      const std::vector<std::string>& key) {
  if (key_columns.size() == 1 && key.size() == 1) {
    return fmt::format("{} {}", key_columns.front(), key.front());
  }
  return fmt::format("{} = {}", Tuple(key_columns), Tuple(key));
}

std::string FormatRange(const std::vector<std::string>& key_columns, const KeyRange& range) {
  std::string key = Tuple(key_columns);
  if (range.low && range.high) {
    return fmt::format("{} < {} <= {}", Tuple(*range.low), key, Tuple(*range.high));
  }
  if (range.low) return fmt::format("{} > {}", key, Tuple(*range.low));
  if (range.high) return fmt::format("{} <= {}", key, Tuple(*range.high));
  return "every key";
}

std::string Render(const VerifyReport& report) {
  std::string text = report.description + "\n";
  text += fmt::format("  table {}.{}, key {}: {} checked", report.schema, report.table,
                      Tuple(report.key_columns), Plural(report.rows_checked, "row"));
  if (report.tables) text += fmt::format(" ({} in the copy)", report.right_rows);
  text += fmt::format(" in {}, {:.2f} s, {:.0f} rows/s\n", Plural(report.ranges, "range"),
                      report.seconds, report.RowsPerSecond());
  if (!report.ok()) {
    text += fmt::format("  mismatches: {} in {} of {}\n", Plural(report.rows_mismatched, "row"),
                        report.mismatched_ranges, Plural(report.ranges, "range"));
    text += fmt::format(
        "  first mismatching ranges{}:\n",
        static_cast<std::int64_t>(report.first_mismatches.size()) < report.mismatched_ranges
            ? fmt::format(" ({} of {})", report.first_mismatches.size(), report.mismatched_ranges)
            : "");
    for (const auto& m : report.first_mismatches) {
      std::string counts = report.tables
                               ? fmt::format("{} rows, {} in the copy, {} differ", m.rows,
                                             m.right_rows, m.mismatched)
                               : fmt::format("{} of {} rows differ", m.mismatched, m.rows);
      text += fmt::format("    {}: {}\n", FormatRange(report.key_columns, m.range), counts);
      for (const auto& s : m.samples) {
        text += fmt::format("      {}: {} {}, {} {}\n", FormatKey(report.key_columns, s.key),
                            report.expected_label, Side(s.expected, report.tables),
                            report.actual_label, Side(s.actual, report.tables));
      }
    }
  }
  if (report.ok()) {
    text += fmt::format("  verdict: OK, all {} match\n", Plural(report.rows_checked, "row"));
  } else {
    text += fmt::format("  verdict: MISMATCH, {} of {} differ\n",
                        Plural(report.rows_mismatched, "row"), report.rows_checked);
  }
  return text;
}

nlohmann::json ToJson(const VerifyReport& report) {
  nlohmann::json ranges = nlohmann::json::array();
  for (const auto& m : report.first_mismatches) {
    nlohmann::json samples = nlohmann::json::array();
    for (const auto& s : m.samples) {
      samples.push_back(
          {{"key", s.key}, {"expected", SideJson(s.expected)}, {"actual", SideJson(s.actual)}});
    }
    nlohmann::json range = {{"low", KeyJson(m.range.low)},
                            {"high", KeyJson(m.range.high)},
                            {"rows", m.rows},
                            {"mismatched", m.mismatched},
                            {"samples", samples}};
    if (report.tables) range["right_rows"] = m.right_rows;
    ranges.push_back(range);
  }
  nlohmann::json j = {{"description", report.description},
                      {"schema", report.schema},
                      {"table", report.table},
                      {"key_columns", report.key_columns},
                      {"ok", report.ok()},
                      {"rows_checked", report.rows_checked},
                      {"rows_mismatched", report.rows_mismatched},
                      {"ranges", report.ranges},
                      {"mismatched_ranges", report.mismatched_ranges},
                      {"seconds", report.seconds},
                      {"rows_per_second", report.RowsPerSecond()},
                      {"first_mismatches", ranges}};
  if (report.tables) {
    // Samples' "expected" is the left table's row text, "actual" the copy's; null: no row.
    j["right_rows"] = report.right_rows;
    j["expected_label"] = report.expected_label;
    j["actual_label"] = report.actual_label;
  }
  return j;
}

}  // namespace zerodown::verify
