// The SQL verify runs, built from already-quoted identifiers and key types, so that it can be
// checked without a database. Values never appear here: key bounds are text parameters cast to
// the key's type ($1::text::bigint, so one parameter can serve two tables whose key types
// differ), and the range size is a parameter too.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>
#include <vector>

namespace zerodown::verify {

// A table's key as SQL: quoted column names and their types (format_type), in key order.
struct KeySql {
  std::vector<std::string> columns;  // quoted identifiers
  std::vector<std::string> types;    // "integer", "character varying(20)"

  std::size_t width() const { return columns.size(); }
  // `"k1", "k2"`, each prefixed with `qualifier.` when given.
  std::string List(std::string_view qualifier = {}) const;
  // `("k1", "k2") <op> ($first::text::t1, $first+1::text::t2)`.
  std::string Compare(std::string_view op, std::size_t first,
                      std::string_view qualifier = {}) const;
  // `"k1"::text AS _zd_key0, …`: aliased, since ORDER BY "k1" would otherwise sort by the text
  // output column of the same name.
  std::string TextSelect(std::string_view qualifier = {}) const;
};

// Which bounds a range has: the low key's parameters come first ($1…), then the high key's.
struct RangeShape {
  bool low = false;
  bool high = false;
};

// The WHERE condition of a range (low exclusive, high inclusive), "TRUE" for every key.
std::string RangeFilter(const KeySql& key, RangeShape shape, std::string_view qualifier = {});
// The number of parameters RangeFilter uses.
std::size_t RangeParams(const KeySql& key, RangeShape shape);

// The upper key of the range starting after the low key (when `after_low`): the key
// `$n` = range_rows - 1 entries on, by an ordered index scan of `table`, and the key after it.
// One row: the range reaches the last key; none: fewer keys are left.
std::string UpperKeySql(const KeySql& key, std::string_view table, bool after_low);

// count(*) and the count of rows whose expected IS DISTINCT FROM actual, over `select_sql`
// within a range.
std::string RowCountSql(const KeySql& key, std::string_view select_sql, RangeShape shape);
// The first mismatching rows of a range in key order: key texts, expected and actual as text;
// the LIMIT is the parameter after the range's.
std::string RowSampleSql(const KeySql& key, std::string_view select_sql, RangeShape shape);

// `ROW("c1", "c2")::text`: one row's text, with record quoting, so row texts joined with a
// newline cannot run into each other.
std::string RowText(const std::vector<std::string>& quoted_columns,
                    std::string_view qualifier = {});
// count(*) and md5 of the range's row texts in key order, of one table.
std::string TableChecksumSql(const KeySql& key, std::string_view table, std::string_view row_text,
                             RangeShape shape);
// The rows of a range that differ between `left` and `right` (matched on the key, a row missing
// on one side included), in key order: key texts, left row text, right row text, and the total
// count of differing rows in the range; the LIMIT is the parameter after the range's.
std::string TableDiffSql(const KeySql& left_key, std::string_view left, const KeySql& right_key,
                         std::string_view right, std::string_view left_row_text,
                         std::string_view right_row_text, RangeShape shape);

}  // namespace zerodown::verify
