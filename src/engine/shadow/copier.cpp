#include "engine/shadow/copier.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <set>

#include "engine/crash_point.hpp"
#include "engine/shadow/key_range_copy.hpp"
#include "zerodown/common/rate.hpp"

namespace zerodown::engine::shadow {

namespace {

std::vector<pg::Param> Params(const std::vector<std::string>& a) {
  return std::vector<pg::Param>(a.begin(), a.end());
}

}  // namespace

void ReportCopy(Context& ctx, Clock::time_point started, std::int64_t done_at_start,
                std::int64_t total, int batch, double last_chunk_ms) {
  std::int64_t done = ctx.checkpoint.value("rows_done", std::int64_t{0});
  RowRate rate = RateOf(done_at_start, done, total, SecondsSince(started));
  BackfillProgress p;
  p.table = ctx.spec.table + " (copy)";
  p.rows_done = done;
  p.rows_total = total;
  p.rows_per_second = rate.rows_per_second;
  p.eta_seconds = rate.eta_seconds;
  p.batch_size = batch;
  p.last_chunk_ms = last_chunk_ms;
  ctx.progress.OnBackfill(p);
}

void Copier::Copy() {
  CopySql sql = BuildCopySql(ctx_.conn, ctx_.spec, ctx_.live);
  std::string copy_first = ChunkSql(sql, /*first=*/true);
  std::string copy_next = ChunkSql(sql, /*first=*/false);

  // An integer key is walked by value ranges: a plain INSERT … SELECT per range, about a
  // quarter cheaper than materializing a LIMITed chunk to learn where it ended.
  static const std::set<std::string> kIntegerTypes = {"smallint", "integer", "bigint"};
  if (ctx_.spec.key_columns.size() == 1 && kIntegerTypes.count(ctx_.key.types[0]) > 0) {
    KeyRangeCopy(ctx_, sessions_, pruner_, sql).Run();
    return;
  }

  BackfillOptions sizing = ctx_.options.chunks;
  // A chunk of the copy locks no row the application uses (it reads the live heap and writes
  // one nobody else sees), so it can run longer than a backfill batch: fewer, larger
  // statements copy faster. What it still holds back is the xmin horizon, for a moment.
  sizing.max_batch = std::max(sizing.max_batch, 500000);
  sizing.first_batch = std::max(sizing.first_batch, 10000);
  int batch = ctx_.checkpoint.value("batch", sizing.first_batch);
  std::int64_t total = ctx_.checkpoint.value("rows_total", std::int64_t{0});
  std::int64_t done_at_start = ctx_.checkpoint.value("rows_done", std::int64_t{0});
  auto started = Clock::now();
  while (true) {
    if (ctx_.checkpoint.value("rows_done", std::int64_t{0}) > 0) CrashPoint("copy");
    if (ctx_.options.chunks.before_batch) ctx_.options.chunks.before_batch();
    sizing.chunk_time = ctx_.ChunkTime() * kCopyChunkFactor;
    auto chunk_start = Clock::now();
    bool last = CopyChunk(copy_first, copy_next, batch, total);
    auto elapsed =
        std::chrono::duration_cast<std::chrono::microseconds>(Clock::now() - chunk_start);
    if (!last && ctx_.checkpoint.contains("last_key")) {
      pruner_.PrunePast(ctx_.checkpoint["last_key"].get<std::vector<std::string>>());
    }
    ReportCopy(ctx_, started, done_at_start, total, batch, elapsed.count() / 1000.0);
    if (last) break;
    batch = NextBatchSize(batch, elapsed, sizing);
  }
  ctx_.report.copy_seconds = SecondsSince(started);
}

std::string Copier::ChunkSql(const CopySql& sql, bool first) const {
  const KeySql& key = ctx_.key;
  std::size_t width = ctx_.spec.key_columns.size();
  // One statement per chunk: the source rows in key order (an index range scan), inserted, and
  // the chunk's size and last key returned. The key rides along under hidden names because
  // the source names columns as the old version does.
  std::string hidden_keys;
  std::string last_key_select;
  std::string hidden_descending;
  for (std::size_t i = 0; i < width; ++i) {
    hidden_keys += fmt::format(", {} AS _zd_key{}", key.names[i], i);
    // Aliased: ORDER BY _zd_key0 would otherwise sort by this text column of the same name.
    last_key_select += fmt::format("{}_zd_key{}::text AS _zd_last{}", i ? ", " : "", i, i);
    hidden_descending += fmt::format("{}_zd_key{} DESC", i ? ", " : "", i);
  }
  std::string where = first ? "true" : key.Compare(">", 1);
  std::size_t limit_param = first ? 1 : width + 1;
  return fmt::format(
      "WITH src AS (SELECT {source}{hidden} FROM {live} WHERE {where} ORDER BY {key} LIMIT "
      "${limit}), ins AS (INSERT INTO {shadow} ({columns}) OVERRIDING SYSTEM VALUE SELECT "
      "{select} FROM src AS "
      "{alias}) SELECT (SELECT count(*) FROM src), {last} FROM src ORDER BY {desc} LIMIT 1",
      fmt::arg("source", sql.source_list), fmt::arg("hidden", hidden_keys),
      fmt::arg("live", ctx_.live), fmt::arg("where", where), fmt::arg("key", key.list),
      fmt::arg("limit", limit_param), fmt::arg("shadow", ctx_.shadow),
      fmt::arg("columns", sql.insert_columns), fmt::arg("select", sql.select_list),
      fmt::arg("alias", ctx_.conn.Ident(ctx_.spec.table)), fmt::arg("last", last_key_select),
      fmt::arg("desc", hidden_descending));
}

bool Copier::CopyChunk(const std::string& copy_first, const std::string& copy_next, int batch,
                       std::int64_t& total) {
  auto last_key = ctx_.checkpoint.value("last_key", std::vector<std::string>{});
  std::vector<pg::Param> params = Params(last_key);
  params.emplace_back(std::to_string(batch));
  pg::Transaction tx(ctx_.conn);
  pg::Rows result = last_key.empty() ? ctx_.conn.Exec(copy_first, {params.back()})
                                     : ctx_.conn.Exec(copy_next, params);
  std::int64_t copied = result.empty() ? 0 : result.Int(0, 0);
  // A short chunk reached the end of the table; rows written after it are in the log.
  bool last = copied < batch;
  if (copied > 0) {
    std::vector<std::string> end_key;
    for (std::size_t i = 0; i < ctx_.spec.key_columns.size(); ++i) {
      end_key.push_back(result.Text(0, 1 + i));
    }
    ctx_.checkpoint["last_key"] = end_key;
  }
  total = CountChunk(copied, last, total);
  ctx_.checkpoint["batch"] = batch;
  ctx_.Save(total);
  tx.Commit();
  return last;
}

std::int64_t Copier::CountChunk(std::int64_t copied, bool last, std::int64_t total) {
  if (last) ctx_.checkpoint.SetStage(Stage::kIndex);
  std::int64_t done = ctx_.checkpoint.value("rows_done", std::int64_t{0}) + copied;
  ctx_.checkpoint["rows_done"] = done;
  total = last ? done : std::max(total, done);
  ctx_.checkpoint["rows_total"] = total;
  return total;
}

}  // namespace zerodown::engine::shadow
