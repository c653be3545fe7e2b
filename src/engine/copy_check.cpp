#include "engine/copy_check.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <chrono>

#include "engine/copy_sql.hpp"
#include "zerodown/pg/catalog.hpp"

namespace zerodown::engine {

namespace {

// How many differing keys the message names.
constexpr int kReportedKeys = 5;

// The query that compares the sampled rows of the table, as `up` makes them, with their copies:
// the count, the mismatched count and the first mismatched keys. The key rides along under names
// no user column has; the source row keeps the table's name as its alias, so an `up` that
// qualifies a column reads as it does in the copy.
std::string CompareSql(pg::Connection& conn, const ShadowCopySpec& spec, const KeySql& key,
                       const std::string& live, const std::string& shadow, const std::string& log,
                       const std::string& sample) {
  std::string hidden;
  std::string hidden_row;
  std::string key_text = key.names.size() == 1 ? "_zd_k0::text" : "";
  std::string to_log;
  std::string to_shadow;
  for (std::size_t i = 0; i < key.names.size(); ++i) {
    std::string h = fmt::format("_zd_k{}", i);
    std::string sep = i ? ", " : "";
    std::string and_ = i ? " AND " : "";
    hidden += fmt::format(", {} AS {}", key.names[i], h);
    hidden_row += sep + h;
    to_log += fmt::format("{}l.{} = e.{}", and_, key.names[i], h);
    to_shadow += fmt::format("{}s.{} = e.{}", and_, key.names[i], h);
  }
  if (key_text.empty()) key_text = fmt::format("ROW({})::text", hidden_row);
  CopySql sql = BuildCopySql(conn, spec, live);
  return fmt::format(
      "SELECT count(*), count(*) FILTER (WHERE a.actual IS DISTINCT FROM e.expected), "
      "coalesce((array_agg(e._zd_key) FILTER (WHERE a.actual IS DISTINCT FROM "
      "e.expected))[1:{n}]::text, '{{}}') "
      "FROM (SELECT {hidden_row}, {key_text} AS _zd_key, ROW({select})::text "
      "AS expected FROM (SELECT {source}{hidden} FROM {live}{sample}) AS {alias}) AS e "
      "LEFT JOIN LATERAL (SELECT ROW({columns})::text AS actual FROM {shadow} AS s WHERE "
      "{to_shadow}) AS a ON true "
      "WHERE NOT EXISTS (SELECT 1 FROM {log} AS l WHERE {to_log})",
      fmt::arg("n", kReportedKeys), fmt::arg("hidden_row", hidden_row),
      fmt::arg("key_text", key_text), fmt::arg("select", sql.select_list),
      fmt::arg("source", sql.source_list), fmt::arg("hidden", hidden), fmt::arg("live", live),
      fmt::arg("sample", sample), fmt::arg("alias", conn.Ident(spec.table)),
      fmt::arg("columns", sql.insert_columns), fmt::arg("shadow", shadow),
      fmt::arg("to_shadow", to_shadow), fmt::arg("log", log), fmt::arg("to_log", to_log));
}

// The sampled rows of the copy whose key the table no longer has and the log does not name. A
// TRUNCATE logged and not yet replayed leaves the copy rows the table no longer has: the replay
// that takes it removes them.
std::string ExtraSql(const KeySql& key, const std::string& live, const std::string& shadow,
                     const std::string& log, const std::string& sample) {
  std::string in_log;
  std::string in_live;
  for (std::size_t i = 0; i < key.names.size(); ++i) {
    std::string and_ = i ? " AND " : "";
    in_log += fmt::format("{}l.{} = s.{}", and_, key.names[i], key.names[i]);
    in_live += fmt::format("{}t.{} = s.{}", and_, key.names[i], key.names[i]);
  }
  return fmt::format(
      "SELECT count(*) FROM {shadow} AS s{sample} WHERE NOT "
      "EXISTS (SELECT 1 FROM {log} AS l WHERE {in_log}) AND NOT "
      "EXISTS (SELECT 1 FROM {live} AS t WHERE {in_live}) AND "
      "NOT EXISTS (SELECT 1 FROM {log} AS l WHERE {truncated})",
      fmt::arg("shadow", shadow), fmt::arg("sample", sample), fmt::arg("log", log),
      fmt::arg("in_log", in_log), fmt::arg("live", live), fmt::arg("in_live", in_live),
      fmt::arg("truncated", key.AllNull("l")));
}

}  // namespace

CopyCheckResult CheckCopy(pg::Connection& conn, const ShadowCopySpec& spec, const KeySql& key,
                          const std::string& live, const std::string& shadow,
                          const std::string& log, CopyCheckMode mode, std::int64_t sample_rows) {
  CopyCheckResult result;
  if (mode == CopyCheckMode::kOff) return result;
  auto started = std::chrono::steady_clock::now();
  // The new heap was analyzed after its indexes were built: its row count is fresh.
  double rows = static_cast<double>(std::max<std::int64_t>(pg::EstimatedRows(conn, shadow), 1));
  result.percent = mode == CopyCheckMode::kFull
                       ? 100.0
                       : std::clamp(100.0 * static_cast<double>(sample_rows) / rows, 0.001, 100.0);
  std::string sample = result.percent >= 100.0 ? "" : " TABLESAMPLE SYSTEM ($1::float8)";
  std::vector<pg::Param> params;
  if (!sample.empty()) params.push_back(fmt::format("{}", result.percent));

  pg::Rows compared = conn.Exec(CompareSql(conn, spec, key, live, shadow, log, sample), params);
  result.rows = compared.Int(0, 0);
  result.mismatched = compared.Int(0, 1);
  pg::Rows keys = conn.Exec("SELECT unnest($1::text[])", {compared.Text(0, 2)});
  for (int r = 0; r < keys.size(); ++r) result.keys.push_back(keys.Text(r, 0));
  result.extra = conn.Exec(ExtraSql(key, live, shadow, log, sample), params).Int(0, 0);
  result.seconds =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();
  return result;
}

}  // namespace zerodown::engine
