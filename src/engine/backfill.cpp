#include "zerodown/engine/backfill.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <limits>
#include <optional>

#include "engine/key_sql.hpp"
#include "zerodown/common/rate.hpp"
#include "zerodown/pg/catalog.hpp"
#include "zerodown/pg/lock_retry.hpp"

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

// The statements of one pass; `_first` ones start at the table's first key, `_next` ones after
// the checkpoint's last key ($1…$width).
struct PassSql {
  std::string end_first;    // the end key of a batch of $1 + 1 rows
  std::string end_next;     // … after the last key
  std::string max_key;      // the end key of the last batch: the current maximum
  std::string touch_first;  // touches the rows up to the end key
  std::string touch_next;   // … after the last key
};

PassSql BuildPassSql(pg::Connection& conn, const std::string& schema, const std::string& table,
                     const std::string& qualified, const std::vector<std::string>& key_columns) {
  KeySql key = BuildKeySql(conn, qualified, key_columns);
  std::string touch = TouchAssignment(conn, schema, table);
  std::size_t width = key_columns.size();
  PassSql sql;
  sql.end_first = fmt::format("SELECT {} FROM {} ORDER BY {} OFFSET $1 LIMIT 1", key.text_select,
                              qualified, key.list);
  sql.end_next = fmt::format("SELECT {} FROM {} WHERE {} ORDER BY {} OFFSET ${} LIMIT 1",
                             key.text_select, qualified, key.Compare(">", 1), key.list, width + 1);
  sql.max_key = fmt::format("SELECT {} FROM {} ORDER BY {} LIMIT 1", key.text_select, qualified,
                            key.descending);
  sql.touch_first =
      fmt::format("UPDATE {} SET {} WHERE {}", qualified, touch, key.Compare("<=", 1));
  sql.touch_next = fmt::format("UPDATE {} SET {} WHERE {} AND {}", qualified, touch,
                               key.Compare(">", 1), key.Compare("<=", width + 1));
  return sql;
}

// What one batch did.
struct Batch {
  std::vector<std::string> end_key;  // empty: there was nothing to touch (an empty table)
  bool last = false;                 // it ran to the current maximum key
  std::int64_t touched = 0;
  Clock::time_point started;  // when its UPDATE began
};

// Touches the batch of up to `size` rows after `from`, in the transaction open on `conn`.
Batch TouchBatch(pg::Connection& conn, const PassSql& sql, const BackfillCheckpoint& from,
                 int size) {
  std::vector<pg::Param> params;
  for (const auto& v : from.last_key) params.emplace_back(v);
  params.emplace_back(std::to_string(size - 1));
  pg::Rows end = from.last_key.empty() ? conn.Exec(sql.end_first, {params.back()})
                                       : conn.Exec(sql.end_next, params);
  params.pop_back();
  Batch batch;
  batch.last = end.empty();
  // The last batch runs to the current maximum key; rows inserted after it already went
  // through the trigger.
  pg::Rows bound = batch.last ? conn.Exec(sql.max_key) : end;
  if (bound.empty()) return batch;  // empty table
  for (int i = 0; i < bound.columns(); ++i) batch.end_key.push_back(bound.Text(0, i));
  if (batch.last && from.last_key == batch.end_key) return batch;
  for (const auto& v : batch.end_key) params.emplace_back(v);
  batch.started = Clock::now();
  batch.touched =
      conn.Exec(from.last_key.empty() ? sql.touch_first : sql.touch_next, params).Affected();
  return batch;
}

// Row locks a batch waits for are the application's: it gives up on them after its target time
// (at least 10 ms) rather than hold the application's rows hostage, and is tried again that
// long after, smaller, for as long as it takes.
pg::LockRetryPolicy BatchPolicy(std::chrono::milliseconds chunk_time) {
  pg::LockRetryPolicy policy;
  policy.lock_timeout = std::max(chunk_time, std::chrono::milliseconds(10));
  policy.max_attempts = std::numeric_limits<int>::max();
  policy.first_backoff = chunk_time;
  policy.max_backoff = chunk_time;
  policy.jitter = 0;
  return policy;
}

// Before every batch: the throttler's wait, then the operator's chunk time. A changed target
// rescales this very batch at the rate measured so far: the operator who lowers it because the
// application suffers should not wait for several halvings.
void BeforeBatch(const BackfillOptions& options, BackfillOptions& sizing, int& batch) {
  if (options.before_batch) options.before_batch();
  // Read after before_batch, which is where the throttler refreshes the operator's setting.
  if (!options.chunk_time_source) return;
  auto target = std::max(options.chunk_time_source(), std::chrono::milliseconds(1));
  if (target == sizing.chunk_time) return;
  double scaled = static_cast<double>(batch) * static_cast<double>(target.count()) /
                  std::max<double>(static_cast<double>(sizing.chunk_time.count()), 1);
  batch = static_cast<int>(std::clamp<double>(scaled, options.min_batch, options.max_batch));
  sizing.chunk_time = target;
}

}  // namespace

void RunBackfill(pg::Connection& conn, const std::string& schema, const std::string& table,
                 const std::vector<std::string>& key_columns, const BackfillOptions& options,
                 BackfillCheckpoint from,
                 const std::function<void(const BackfillCheckpoint&, std::int64_t)>& save,
                 ProgressSink& progress) {
  std::string qualified = conn.Ident(schema, table);
  PassSql sql = BuildPassSql(conn, schema, table, qualified, key_columns);
  std::int64_t total = pg::EstimatedRows(conn, qualified);
  auto started = Clock::now();
  std::int64_t done_at_start = from.rows_done;
  int size = options.first_batch;
  BackfillCheckpoint checkpoint = std::move(from);
  // What sizes the next batch; its chunk_time follows chunk_time_source.
  BackfillOptions sizing;
  sizing.chunk_time = options.chunk_time;
  sizing.min_batch = options.min_batch;
  sizing.max_batch = options.max_batch;
  while (true) {
    BeforeBatch(options, sizing, size);
    Batch batch;
    pg::RunWithLockRetry(
        conn, BatchPolicy(sizing.chunk_time), "fill the rows of " + qualified,
        [&](pg::Connection& c) { batch = TouchBatch(c, sql, checkpoint, size); }, {},
        [&](int) {
          size = std::max(options.min_batch, size / 2);
          BeforeBatch(options, sizing, size);
        });
    if (batch.end_key.empty() || (batch.last && checkpoint.last_key == batch.end_key)) break;
    auto elapsed =
        std::chrono::duration_cast<std::chrono::microseconds>(Clock::now() - batch.started);
    checkpoint.last_key = batch.end_key;
    checkpoint.rows_done += batch.touched;
    total = std::max(total, checkpoint.rows_done);
    save(checkpoint, total);
    double seconds = std::chrono::duration<double>(Clock::now() - started).count();
    BackfillProgress p;
    p.table = table;
    p.rows_done = checkpoint.rows_done;
    p.rows_total = batch.last ? checkpoint.rows_done : total;
    RowRate rate = RateOf(done_at_start, p.rows_done, p.rows_total, seconds);
    p.rows_per_second = rate.rows_per_second;
    p.eta_seconds = rate.eta_seconds;
    p.batch_size = size;
    p.last_chunk_ms = elapsed.count() / 1000.0;
    progress.OnBackfill(p);
    if (batch.last) break;
    size = NextBatchSize(size, elapsed, sizing);
  }
}

}  // namespace zerodown::engine
