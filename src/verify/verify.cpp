#include "zerodown/verify/verify.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <chrono>
#include <cstdlib>

#include "verify/range_sql.hpp"
#include "zerodown/common/rate.hpp"
#include "zerodown/pg/catalog.hpp"

namespace zerodown::verify {
namespace {

using Clock = std::chrono::steady_clock;

// A physical table as verify reads it.
struct Table {
  std::string qualified;
  KeySql key;
  std::vector<std::string> columns;  // every column's name, in attnum order
  std::int64_t estimated_rows = 0;
};

Table Describe(pg::Connection& conn, const std::string& schema, const std::string& name,
               const std::vector<std::string>& key_columns) {
  auto info = pg::DescribeTable(conn, schema, name);
  if (!info) {
    throw Error(ErrorKind::kNotFound, fmt::format("table \"{}.{}\" does not exist", schema, name),
                "Check the schema (--schema) and that no one dropped or renamed the table.");
  }
  Table table;
  table.qualified = conn.Ident(schema, name);
  table.estimated_rows = std::max<std::int64_t>(info->estimated_rows, 0);
  for (const auto& column : info->columns) table.columns.push_back(column.name);
  for (const auto& k : key_columns) {
    const pg::ColumnInfo* column = info->FindColumn(k);
    if (column == nullptr) {
      throw Error(ErrorKind::kNotFound,
                  fmt::format("key column \"{}\" does not exist in \"{}.{}\"", k, schema, name),
                  "The key must name columns of the physical table.");
    }
    table.key.columns.push_back(conn.Ident(k));
    table.key.types.push_back(column->type);
  }
  return table;
}

void CheckInput(pg::Connection& conn, const std::vector<std::string>& key_columns,
                const VerifyOptions& options) {
  if (key_columns.empty()) {
    throw Error(ErrorKind::kUsage, "verify needs the table's key columns",
                "Pass the primary key or the columns of a unique not-null index.");
  }
  if (options.range_rows < 1) {
    throw Error(ErrorKind::kUsage,
                fmt::format("range size {} is not a positive number of rows", options.range_rows),
                "Pass --range-rows 1 or more (default 10000).");
  }
  if (conn.InTransaction()) {
    // In one transaction every range's lock would be held to the end.
    throw Error(ErrorKind::kInternal, "verify must run outside a transaction");
  }
}

std::vector<std::string> KeyTexts(const pg::Rows& rows, int row, std::size_t width) {
  std::vector<std::string> key;
  for (std::size_t i = 0; i < width; ++i) key.push_back(rows.Text(row, static_cast<int>(i)));
  return key;
}

RangeShape ShapeOf(const KeyRange& range) {
  return {range.low.has_value(), range.high.has_value()};
}

// The range's parameters in RangeFilter's order: the low key, then the high key.
std::vector<pg::Param> ParamsOf(const KeyRange& range) {
  std::vector<pg::Param> params;
  for (const auto* bound : {&range.low, &range.high}) {
    if (*bound) params.insert(params.end(), (*bound)->begin(), (*bound)->end());
  }
  return params;
}

// Walks `table`'s key in ranges of range_rows keys and calls `visit` for each, in key order;
// the last range is open above, so it includes rows inserted past the last key seen.
template <typename Visit>
void WalkRanges(pg::Connection& conn, const Table& table, const VerifyOptions& options,
                Visit&& visit) {
  std::string first = UpperKeySql(table.key, table.qualified, false);
  std::string next = UpperKeySql(table.key, table.qualified, true);
  KeyRange range;
  while (true) {
    std::vector<pg::Param> params = ParamsOf(range);
    params.emplace_back(std::to_string(options.range_rows - 1));
    pg::Rows upper = conn.Exec(range.low ? next : first, params);
    // A second key past the upper one means more ranges follow; otherwise this is the last.
    range.high.reset();
    if (upper.size() == 2) range.high = KeyTexts(upper, 0, table.key.width());
    visit(range);
    if (!range.high) break;
    range.low = std::move(range.high);
  }
}

// Counts a range into the report, keeping it among the first mismatches when there is room.
// Returns the kept entry, for its samples, or nullptr.
MismatchRange* Tally(VerifyReport& report, const VerifyOptions& options, const KeyRange& range,
                     std::int64_t rows, std::int64_t mismatched, bool differs) {
  ++report.ranges;
  report.rows_checked += rows;
  report.rows_mismatched += mismatched;
  if (!differs) return nullptr;
  ++report.mismatched_ranges;
  if (static_cast<int>(report.first_mismatches.size()) >= options.max_reported_ranges) {
    return nullptr;
  }
  report.first_mismatches.push_back({range, rows, 0, mismatched, {}});
  return &report.first_mismatches.back();
}

void Report(const VerifyReport& report, const VerifyOptions& options, std::int64_t estimate,
            Clock::time_point started) {
  if (!options.on_progress) return;
  VerifyProgress p;
  p.description = report.description;
  p.rows_checked = report.rows_checked;
  p.rows_total = std::max(estimate, report.rows_checked);
  p.rows_mismatched = report.rows_mismatched;
  p.ranges = report.ranges;
  double seconds = std::chrono::duration<double>(Clock::now() - started).count();
  RowRate rate = RateOf(0, p.rows_checked, p.rows_total, seconds);
  p.rows_per_second = rate.rows_per_second;
  p.eta_seconds = rate.eta_seconds;
  options.on_progress(p);
}

double SecondsSince(Clock::time_point started) {
  return std::chrono::duration<double>(Clock::now() - started).count();
}

}  // namespace

VerifyReport CompareRows(pg::Connection& conn, const RowComparison& comparison,
                         const VerifyOptions& options) {
  CheckInput(conn, comparison.key_columns, options);
  auto started = Clock::now();
  Table table = Describe(conn, comparison.schema, comparison.table, comparison.key_columns);
  VerifyReport report;
  report.description = comparison.description;
  report.schema = comparison.schema;
  report.table = comparison.table;
  report.key_columns = comparison.key_columns;
  WalkRanges(conn, table, options, [&](const KeyRange& range) {
    RangeShape shape = ShapeOf(range);
    std::vector<pg::Param> params = ParamsOf(range);
    pg::Rows counts = conn.Exec(RowCountSql(table.key, comparison.select_sql, shape), params);
    std::int64_t mismatched = counts.Int(0, 1);
    MismatchRange* kept =
        Tally(report, options, range, counts.Int(0, 0), mismatched, mismatched > 0);
    if (kept != nullptr && options.sample_rows > 0) {
      params.emplace_back(std::to_string(options.sample_rows));
      pg::Rows samples = conn.Exec(RowSampleSql(table.key, comparison.select_sql, shape), params);
      int width = static_cast<int>(table.key.width());
      for (int row = 0; row < samples.size(); ++row) {
        kept->samples.push_back({KeyTexts(samples, row, table.key.width()),
                                 samples.Optional(row, width), samples.Optional(row, width + 1)});
      }
    }
    Report(report, options, table.estimated_rows, started);
  });
  report.seconds = SecondsSince(started);
  return report;
}

VerifyReport CompareTables(pg::Connection& conn, const TableComparison& comparison,
                           const VerifyOptions& options) {
  CheckInput(conn, comparison.key_columns, options);
  auto started = Clock::now();
  Table left = Describe(conn, comparison.schema, comparison.left_table, comparison.key_columns);
  Table right = Describe(conn, comparison.schema, comparison.right_table, comparison.key_columns);
  std::vector<std::string> quoted;
  for (const auto& c : comparison.columns.empty() ? left.columns : comparison.columns) {
    quoted.push_back(conn.Ident(c));
  }
  std::string row_text = RowText(quoted);
  VerifyReport report;
  report.description =
      fmt::format("{} against its copy {}", comparison.left_table, comparison.right_table);
  report.schema = comparison.schema;
  report.table = fmt::format("{} = {}", comparison.left_table, comparison.right_table);
  report.key_columns = comparison.key_columns;
  report.tables = true;
  report.expected_label = comparison.left_table;
  report.actual_label = comparison.right_table;
  WalkRanges(conn, left, options, [&](const KeyRange& range) {
    RangeShape shape = ShapeOf(range);
    std::vector<pg::Param> params = ParamsOf(range);
    // Two statements, two snapshots: a write landing between them shows as a difference that a
    // second run does not repeat; compare copies that are caught up, or run twice.
    pg::Rows l = conn.Exec(TableChecksumSql(left.key, left.qualified, row_text, shape), params);
    pg::Rows r = conn.Exec(TableChecksumSql(right.key, right.qualified, row_text, shape), params);
    std::int64_t left_rows = l.Int(0, 0);
    std::int64_t right_rows = r.Int(0, 0);
    report.right_rows += right_rows;
    bool differs = left_rows != right_rows || l.Optional(0, 1) != r.Optional(0, 1);
    std::int64_t mismatched = 0;
    std::optional<pg::Rows> diff;
    int width = static_cast<int>(left.key.width());
    if (differs) {
      params.emplace_back(std::to_string(std::max(options.sample_rows, 1)));
      diff = conn.Exec(TableDiffSql(left.key, left.qualified, right.key, right.qualified, row_text,
                                    row_text, shape),
                       params);
      // A range whose checksums differ with no row differing by key holds duplicate keys.
      mismatched = diff->empty() ? std::abs(left_rows - right_rows) : diff->Int(0, width + 2);
    }
    MismatchRange* kept = Tally(report, options, range, left_rows, mismatched, differs);
    if (kept != nullptr) {
      kept->right_rows = right_rows;
      for (int row = 0; row < diff->size() && row < options.sample_rows; ++row) {
        kept->samples.push_back({KeyTexts(*diff, row, left.key.width()), diff->Optional(row, width),
                                 diff->Optional(row, width + 1)});
      }
    }
    Report(report, options, left.estimated_rows, started);
  });
  report.seconds = SecondsSince(started);
  return report;
}

}  // namespace zerodown::verify
