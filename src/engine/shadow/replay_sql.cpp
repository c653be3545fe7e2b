#include "engine/shadow/replay_sql.hpp"

#include <fmt/format.h>

#include "engine/copy_sql.hpp"

namespace zerodown::engine::shadow {

ReplayPath MakeForwardPath(Context& ctx) {
  CopySql sql = BuildCopySql(ctx.conn, ctx.spec, ctx.live);
  std::string batch = ctx.conn.Ident("_zd_replay");
  ctx.conn.Exec(fmt::format("CREATE TEMP TABLE IF NOT EXISTS {} (LIKE {})", batch, ctx.log));
  const KeySql& key = ctx.key;
  return ReplayPath{
      ctx.log, batch, ctx.shadow,
      fmt::format("INSERT INTO {} ({}) OVERRIDING SYSTEM VALUE SELECT {} FROM (SELECT {} "
                  "FROM {} WHERE ({}) IN "
                  "(SELECT {} FROM {}) ORDER BY {}) AS {}",
                  ctx.shadow, sql.insert_columns, sql.select_list, sql.source_list, ctx.live,
                  key.list, key.list, batch, key.list, ctx.conn.Ident(ctx.spec.table))};
}

ReplayPath MakeReversePath(Context& ctx) {
  std::vector<pg::RelationColumn> columns = OldHeapColumns(ctx);
  std::string insert_columns;
  std::string select_list;
  for (std::size_t i = 0; i < columns.size(); ++i) {
    std::string name = ctx.conn.Ident(columns[i].name);
    insert_columns += (i ? ", " : "") + name;
    select_list += fmt::format("{}CAST({} AS {})", i ? ", " : "", name, columns[i].type);
  }
  std::string batch = ctx.conn.Ident("_zd_reverse_replay");
  ctx.conn.Exec(
      fmt::format("CREATE TEMP TABLE IF NOT EXISTS {} (LIKE {})", batch, ctx.reverse_log));
  const KeySql& key = ctx.key;
  return ReplayPath{
      ctx.reverse_log, batch, ctx.retired,
      fmt::format("INSERT INTO {} ({}) OVERRIDING SYSTEM VALUE SELECT {} FROM {} WHERE ({}) "
                  "IN (SELECT {} FROM {}) ORDER BY {}",
                  ctx.retired, insert_columns, select_list, ctx.live, key.list, key.list, batch,
                  key.list)};
}

std::vector<pg::RelationColumn> OldHeapColumns(Context& ctx) {
  std::vector<pg::RelationColumn> columns = pg::RelationColumns(ctx.conn, ctx.retired);
  std::erase_if(columns, [](const pg::RelationColumn& c) { return c.generated; });
  return columns;
}

std::string TakeSql(const KeySql& key, const ReplayPath& path, const std::string& share,
                    std::string_view limit) {
  return fmt::format(
      "WITH d AS (DELETE FROM {log} WHERE _zd_seq IN (SELECT _zd_seq FROM {log}{where} ORDER BY "
      "_zd_seq LIMIT {limit}) RETURNING *), i AS (INSERT INTO {batch} SELECT * FROM d) SELECT "
      "count(*), count(*) FILTER (WHERE {truncate}) FROM d",
      fmt::arg("log", path.log), fmt::arg("batch", path.batch),
      fmt::arg("where", share.empty() ? "" : " WHERE " + share), fmt::arg("limit", limit),
      fmt::arg("truncate", key.AllNull("d")));
}

std::string PurgeSql(const KeySql& key, const std::string& live, const ReplayPath& path) {
  return fmt::format("DELETE FROM {} AS s WHERE NOT EXISTS (SELECT 1 FROM {} AS t WHERE {})",
                     path.target, live, key.Join("t", "s"));
}

std::string RemoveSql(const KeySql& key, const ReplayPath& path) {
  return fmt::format(
      "DELETE FROM {} AS s USING (SELECT DISTINCT {k} FROM {} ORDER BY {k}) AS r WHERE {}",
      path.target, path.batch, key.Join("s", "r"), fmt::arg("k", key.list));
}

std::string ReplayShare(const KeySql& key, int i, int n) {
  return fmt::format("abs(hashtext(ROW({})::text) % {}) = {}", key.list, n, i);
}

std::string ShortLogSql(const KeySql& key, const ReplayPath& path, std::int64_t limit,
                        std::int64_t count_up_to) {
  return fmt::format(
      "TRUNCATE {batch}; {take}; {probe}; {remove}; {copy}; SELECT (SELECT count(*) FROM "
      "{batch}), (SELECT count(*) FROM (SELECT 1 FROM {log} ORDER BY _zd_seq LIMIT {final}) AS "
      "t), (SELECT count(*) FROM {batch} AS b WHERE {truncate})",
      fmt::arg("batch", path.batch), fmt::arg("log", path.log),
      fmt::arg("take", TakeSql(key, path, "", std::to_string(limit))),
      fmt::arg("probe", kProbeByKey), fmt::arg("remove", RemoveSql(key, path)),
      fmt::arg("copy", path.copy), fmt::arg("final", count_up_to),
      fmt::arg("truncate", key.AllNull("b")));
}

}  // namespace zerodown::engine::shadow
