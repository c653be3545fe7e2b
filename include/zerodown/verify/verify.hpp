// Verification of copied data on a live database: walks a table's key in ranges and compares,
// range by range, each row's expected value against its copy (CompareRows) or a table against
// its copy (CompareTables), reporting counts, the first mismatching ranges and sample rows. It
// only reads (short autocommit SELECTs, ACCESS SHARE), never repairs, and knows no migration.
#pragma once

#include <cstdint>
#include <functional>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <vector>

#include "zerodown/pg/connection.hpp"

namespace zerodown::verify {

// Every row of schema.table (physical) yields its key, `expected` and `actual` through
// `select_sql`; a row is consistent when `expected IS NOT DISTINCT FROM actual`.
struct RowComparison {
  std::string description;  // one line for people: "accounts.balance: up(old) …"
  std::string schema;
  std::string table;                     // physical; its key columns must have a btree index
  std::vector<std::string> key_columns;  // physical, in key order (primary key or unique index)
  // A SELECT yielding per row the key columns under their physical names, `expected` and
  // `actual`. It is wrapped as a subquery and filtered on the key columns, so a filter on the
  // key must reach the table's index through it.
  std::string select_sql;
};

// A table and its copy (a shadow rebuild): rows are matched by key and compared as the text of
// `columns`, so a type change that keeps the text (int -> bigint) compares equal.
struct TableComparison {
  std::string schema;
  std::string left_table;                // the live table: its key splits the ranges
  std::string right_table;               // the copy
  std::vector<std::string> key_columns;  // the same names in both tables, in key order
  std::vector<std::string> columns;      // compared columns; empty: every column of left_table
};

// Reported after every range.
struct VerifyProgress {
  std::string description;
  std::int64_t rows_checked = 0;
  std::int64_t rows_total = 0;  // the planner's estimate (pg_class.reltuples), at least checked
  std::int64_t rows_mismatched = 0;
  std::int64_t ranges = 0;
  double rows_per_second = 0;
  double eta_seconds = 0;
};

struct VerifyOptions {
  std::int64_t range_rows = 10000;  // keys per range: one index walk and one aggregate each
  int max_reported_ranges = 10;     // mismatching ranges kept in the report (all are counted)
  int sample_rows = 5;              // example rows kept per reported range
  std::function<void(const VerifyProgress&)> on_progress;
};

// One row that differs: its key (as text, in key order) and both sides as text (nullopt: SQL
// NULL, or for CompareTables a row missing on that side).
struct SampleRow {
  std::vector<std::string> key;
  std::optional<std::string> expected;
  std::optional<std::string> actual;
};

// A range of keys: above `low` (exclusive; nullopt: from the first key) up to `high` (inclusive;
// nullopt: to the last key, rows inserted while verify ran included).
struct KeyRange {
  std::optional<std::vector<std::string>> low;
  std::optional<std::vector<std::string>> high;
};

struct MismatchRange {
  KeyRange range;
  std::int64_t rows = 0;        // rows in the range (CompareTables: of the left table)
  std::int64_t right_rows = 0;  // CompareTables only: rows of the right table in the range
  std::int64_t mismatched = 0;  // rows that differ
  std::vector<SampleRow> samples;
};

struct VerifyReport {
  std::string description;
  std::string schema;
  std::string table;  // CompareTables: "left_table = right_table"
  std::vector<std::string> key_columns;
  bool tables = false;                      // made by CompareTables
  std::string expected_label = "expected";  // what SampleRow::expected / actual hold
  std::string actual_label = "actual";
  std::int64_t rows_checked = 0;  // CompareTables: rows of the left table
  std::int64_t right_rows = 0;    // CompareTables only
  std::int64_t rows_mismatched = 0;
  std::int64_t ranges = 0;
  std::int64_t mismatched_ranges = 0;
  double seconds = 0;
  std::vector<MismatchRange> first_mismatches;  // at most max_reported_ranges, in key order

  bool ok() const { return rows_mismatched == 0 && mismatched_ranges == 0; }
  double RowsPerSecond() const { return seconds > 0 ? rows_checked / seconds : 0; }
};

// Compares every row of `comparison` in key order, `options.range_rows` keys at a time: per
// range one ordered index scan finds the upper key and one aggregate counts rows and mismatches
// (plus one sample query when it finds any). Each statement runs on its own in autocommit and
// takes ACCESS SHARE on the table only, so writers are never blocked and each range is read
// from one consistent snapshot; memory stays flat for any table size. Throws Error(kDatabase)
// when the server refuses a query (the select does not compile, the table is gone) and
// Error(kUsage) on empty key columns or range_rows < 1. `conn` must not be in a transaction.
VerifyReport CompareRows(pg::Connection& conn, const RowComparison& comparison,
                         const VerifyOptions& options);

// Compares `comparison.left_table` with `right_table` range by range (ranges split on the left
// table's key): row count and md5 of the ordered row texts on each side; for each mismatching
// range, the rows that differ or are missing on one side (full join on the key). Locks and
// failures as CompareRows.
VerifyReport CompareTables(pg::Connection& conn, const TableComparison& comparison,
                           const VerifyOptions& options);

// "id 42", "(region, id) = (eu, 42)": a key for people.
std::string FormatKey(const std::vector<std::string>& key_columns,
                      const std::vector<std::string>& key);
// "id in (1000, 2000]", "id <= 1000", "id > 9000", "every key".
std::string FormatRange(const std::vector<std::string>& key_columns, const KeyRange& range);
// The report for people: counts, rate, first mismatching ranges with their samples, verdict.
std::string Render(const VerifyReport& report);
nlohmann::json ToJson(const VerifyReport& report);

}  // namespace zerodown::verify
