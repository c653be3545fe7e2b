#include "zerodown/engine/backfill.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <optional>
#include <thread>

#include "engine/key_sql.hpp"
#include "zerodown/common/rate.hpp"
#include "zerodown/pg/catalog.hpp"

namespace zerodown::engine {

using Clock = std::chrono::steady_clock;

nlohmann::json BackfillCheckpoint::ToJson() const {
  return {{"last_key", last_key}, {"rows_done", rows_done}};
}

BackfillCheckpoint BackfillCheckpoint::FromJson(const nlohmann::json& json) {
  BackfillCheckpoint c;
  if (json.is_object()) {
    c.last_key = json.value("last_key", std::vector<std::string>{});
    c.rows_done = json.value("rows_done", std::int64_t{0});
  }
  return c;
}

int NextBatchSize(int current, std::chrono::microseconds elapsed, const BackfillOptions& options) {
  double target = std::chrono::duration<double, std::micro>(options.chunk_time).count();
  double took = std::max<double>(static_cast<double>(elapsed.count()), 1.0);
  double factor = std::clamp(target / took, 0.5, 2.0);
  int next = static_cast<int>(current * factor);
  return std::clamp(next, options.min_batch, options.max_batch);
}

namespace {

bool IsTransient(const Error& error) {
  return error.sqlstate() == "55P03" || error.sqlstate() == "40P01" || error.sqlstate() == "40001";
}

// "c" = "c" for a column that takes its own value: any assignment fires the BEFORE UPDATE row
// triggers that fill the copies, and this one changes nothing else. Not the key: an identity
// ALWAYS key refuses any value but DEFAULT (SQLSTATE 428C9), and it is the default key of new
// schemas.
std::string TouchAssignment(pg::Connection& conn, const std::string& schema,
                            const std::string& table) {
  std::optional<std::string> column = pg::SelfAssignableColumn(conn, schema, table);
  if (!column) {
    throw Error(ErrorKind::kMigrationFailed,
                fmt::format("cannot fill the rows of {}.{} in place: every column is an identity "
                            "ALWAYS or a generated column, which an UPDATE cannot set to its own "
                            "value, so no UPDATE can make the row triggers fill the copies",
                            schema, table),
                "Run the migration again with `--mechanism shadow`, which copies the rows into "
                "a new heap instead of updating them.");
  }
  std::string quoted = conn.Ident(*column);
  return quoted + " = " + quoted;
}

}  // namespace

void RunBackfill(pg::Connection& conn, const std::string& schema, const std::string& table,
                 const std::vector<std::string>& key_columns, const BackfillOptions& options,
                 BackfillCheckpoint from,
                 const std::function<void(const BackfillCheckpoint&, std::int64_t)>& save,
                 ProgressSink& progress) {
  std::string qualified = conn.Ident(schema, table);
  KeySql key = BuildKeySql(conn, qualified, key_columns);
  std::string touch = TouchAssignment(conn, schema, table);
  std::int64_t total = pg::EstimatedRows(conn, qualified);
  std::size_t width = key_columns.size();
  std::string end_first = fmt::format("SELECT {} FROM {} ORDER BY {} OFFSET $1 LIMIT 1",
                                      key.text_select, qualified, key.list);
  std::string end_next =
      fmt::format("SELECT {} FROM {} WHERE {} ORDER BY {} OFFSET ${} LIMIT 1", key.text_select,
                  qualified, key.Compare(">", 1), key.list, width + 1);
  std::string max_key = fmt::format("SELECT {} FROM {} ORDER BY {} LIMIT 1", key.text_select,
                                    qualified, key.descending);
  std::string touch_first =
      fmt::format("UPDATE {} SET {} WHERE {}", qualified, touch, key.Compare("<=", 1));
  std::string touch_next = fmt::format("UPDATE {} SET {} WHERE {} AND {}", qualified, touch,
                                       key.Compare(">", 1), key.Compare("<=", width + 1));
  auto started = Clock::now();
  std::int64_t done_at_start = from.rows_done;
  int batch = options.first_batch;
  BackfillCheckpoint checkpoint = std::move(from);
  // What sizes the next batch; its chunk_time follows chunk_time_source.
  BackfillOptions sizing;
  sizing.chunk_time = options.chunk_time;
  sizing.min_batch = options.min_batch;
  sizing.max_batch = options.max_batch;
  while (true) {
    if (options.before_batch) options.before_batch();
    // Read after before_batch, which is where the throttler refreshes the operator's setting.
    // A changed target rescales this very batch at the rate measured so far: the operator who
    // lowers it because the application suffers should not wait for several halvings.
    if (options.chunk_time_source) {
      auto target = std::max(options.chunk_time_source(), std::chrono::milliseconds(1));
      if (target != sizing.chunk_time) {
        double scaled = static_cast<double>(batch) * static_cast<double>(target.count()) /
                        std::max<double>(static_cast<double>(sizing.chunk_time.count()), 1);
        batch = static_cast<int>(std::clamp<double>(scaled, options.min_batch, options.max_batch));
        sizing.chunk_time = target;
      }
    }
    // Row locks a batch waits for are the application's; give up on them fast and retry smaller
    // rather than hold the application's rows hostage.
    std::string lock_timeout =
        fmt::format("{}ms", std::max<std::int64_t>(sizing.chunk_time.count(), 10));
    std::vector<pg::Param> params;
    for (const auto& v : checkpoint.last_key) params.emplace_back(v);
    params.emplace_back(std::to_string(batch - 1));
    pg::Rows end = checkpoint.last_key.empty() ? conn.Exec(end_first, {params.back()})
                                               : conn.Exec(end_next, params);
    params.pop_back();
    bool last = end.empty();
    std::vector<std::string> end_key;
    // The last batch runs to the current maximum key; rows inserted after it already went
    // through the trigger.
    pg::Rows bound = last ? conn.Exec(max_key) : end;
    if (bound.empty()) break;  // empty table
    for (int i = 0; i < bound.columns(); ++i) end_key.push_back(bound.Text(0, i));
    if (last && checkpoint.last_key == end_key) break;
    std::vector<pg::Param> update_params = params;
    for (const auto& v : end_key) update_params.emplace_back(v);
    auto chunk_start = Clock::now();
    std::int64_t touched = 0;
    try {
      pg::Transaction tx(conn);
      conn.Exec("SELECT set_config('lock_timeout', $1, true)", {lock_timeout});
      touched = conn.Exec(checkpoint.last_key.empty() ? touch_first : touch_next, update_params)
                    .Affected();
      tx.Commit();
    } catch (const Error& error) {
      if (!IsTransient(error)) throw;
      batch = std::max(options.min_batch, batch / 2);
      std::this_thread::sleep_for(sizing.chunk_time);
      continue;
    }
    auto elapsed =
        std::chrono::duration_cast<std::chrono::microseconds>(Clock::now() - chunk_start);
    checkpoint.last_key = end_key;
    checkpoint.rows_done += touched;
    total = std::max(total, checkpoint.rows_done);
    save(checkpoint, total);
    double seconds = std::chrono::duration<double>(Clock::now() - started).count();
    BackfillProgress p;
    p.table = table;
    p.rows_done = checkpoint.rows_done;
    p.rows_total = last ? checkpoint.rows_done : total;
    RowRate rate = RateOf(done_at_start, p.rows_done, p.rows_total, seconds);
    p.rows_per_second = rate.rows_per_second;
    p.eta_seconds = rate.eta_seconds;
    p.batch_size = batch;
    p.last_chunk_ms = elapsed.count() / 1000.0;
    progress.OnBackfill(p);
    if (last) break;
    batch = NextBatchSize(batch, elapsed, sizing);
  }
}

}  // namespace zerodown::engine
