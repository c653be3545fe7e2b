#include "verify/range_sql.hpp"

#include <fmt/format.h>

namespace zerodown::verify {
namespace {

std::string Qualify(std::string_view qualifier, const std::string& column) {
  return qualifier.empty() ? column : fmt::format("{}.{}", qualifier, column);
}

}  // namespace

std::string KeySql::List(std::string_view qualifier) const {
  std::string list;
  for (std::size_t i = 0; i < columns.size(); ++i) {
    list += fmt::format("{}{}", i ? ", " : "", Qualify(qualifier, columns[i]));
  }
  return list;
}

std::string KeySql::Compare(std::string_view op, std::size_t first,
                            std::string_view qualifier) const {
  std::string params;
  for (std::size_t i = 0; i < types.size(); ++i) {
    params += fmt::format("{}${}::text::{}", i ? ", " : "", first + i, types[i]);
  }
  return fmt::format("({}) {} ({})", List(qualifier), op, params);
}

std::string KeySql::TextSelect(std::string_view qualifier) const {
  std::string list;
  for (std::size_t i = 0; i < columns.size(); ++i) {
    list +=
        fmt::format("{}{}::text AS _zd_key{}", i ? ", " : "", Qualify(qualifier, columns[i]), i);
  }
  return list;
}

std::string RangeFilter(const KeySql& key, RangeShape shape, std::string_view qualifier) {
  if (shape.low && shape.high) {
    return fmt::format("{} AND {}", key.Compare(">", 1, qualifier),
                       key.Compare("<=", 1 + key.width(), qualifier));
  }
  if (shape.low) return key.Compare(">", 1, qualifier);
  if (shape.high) return key.Compare("<=", 1, qualifier);
  return "TRUE";
}

std::size_t RangeParams(const KeySql& key, RangeShape shape) {
  return key.width() * ((shape.low ? 1 : 0) + (shape.high ? 1 : 0));
}

std::string UpperKeySql(const KeySql& key, std::string_view table, bool after_low) {
  RangeShape shape{after_low, false};
  return fmt::format("SELECT {} FROM {} WHERE {} ORDER BY {} OFFSET ${} LIMIT 2", key.TextSelect(),
                     table, RangeFilter(key, shape), key.List(), RangeParams(key, shape) + 1);
}

std::string RowCountSql(const KeySql& key, std::string_view select_sql, RangeShape shape) {
  return fmt::format(
      "SELECT count(*), count(*) FILTER (WHERE expected IS DISTINCT FROM actual) "
      "FROM ({}) AS _zd_rows WHERE {}",
      select_sql, RangeFilter(key, shape));
}

std::string RowSampleSql(const KeySql& key, std::string_view select_sql, RangeShape shape) {
  return fmt::format(
      "SELECT {}, expected::text, actual::text FROM ({}) AS _zd_rows "
      "WHERE ({}) AND expected IS DISTINCT FROM actual ORDER BY {} LIMIT ${}",
      key.TextSelect(), select_sql, RangeFilter(key, shape), key.List(),
      RangeParams(key, shape) + 1);
}

std::string RowText(const std::vector<std::string>& quoted_columns, std::string_view qualifier) {
  std::string list;
  for (std::size_t i = 0; i < quoted_columns.size(); ++i) {
    list += fmt::format("{}{}", i ? ", " : "", Qualify(qualifier, quoted_columns[i]));
  }
  return fmt::format("ROW({})::text", list);
}

std::string TableChecksumSql(const KeySql& key, std::string_view table, std::string_view row_text,
                             RangeShape shape) {
  // chr(10) never appears unquoted in a record's text, so the joined texts cannot collide.
  return fmt::format("SELECT count(*), md5(string_agg({}, chr(10) ORDER BY {})) FROM {} WHERE {}",
                     row_text, key.List(), table, RangeFilter(key, shape));
}

std::string TableDiffSql(const KeySql& left_key, std::string_view left, const KeySql& right_key,
                         std::string_view right, std::string_view left_row_text,
                         std::string_view right_row_text, RangeShape shape) {
  std::string join;
  std::string key_text;
  std::string order;
  for (std::size_t i = 0; i < left_key.width(); ++i) {
    const std::string& l = left_key.columns[i];
    const std::string& r = right_key.columns[i];
    std::string sep = i ? ", " : "";
    join += fmt::format("{}_zd_l.{} = _zd_r.{}", i ? " AND " : "", l, r);
    key_text +=
        fmt::format("{}coalesce(_zd_l.{}::text, _zd_r.{}::text) AS _zd_key{}", sep, l, r, i);
    order += fmt::format("{}coalesce(_zd_l.{}, _zd_r.{})", sep, l, r);
  }
  // Both sides read the same parameters: casts through text let their key types differ.
  return fmt::format(
      "SELECT {}, _zd_l._zd_row, _zd_r._zd_row, count(*) OVER () "
      "FROM (SELECT {}, {} AS _zd_row FROM {} WHERE {}) AS _zd_l "
      "FULL JOIN (SELECT {}, {} AS _zd_row FROM {} WHERE {}) AS _zd_r ON {} "
      "WHERE _zd_l._zd_row IS DISTINCT FROM _zd_r._zd_row ORDER BY {} LIMIT ${}",
      key_text, left_key.List(), left_row_text, left, RangeFilter(left_key, shape),
      right_key.List(), right_row_text, right, RangeFilter(right_key, shape), join, order,
      RangeParams(left_key, shape) + 1);
}

}  // namespace zerodown::verify
