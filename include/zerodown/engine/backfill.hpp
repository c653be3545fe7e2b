// The batched pass over every row of a table that makes the sync triggers fill a new column. It
// walks the key in order, sizes each batch to a target time so the row locks the application
// may collide with are held briefly, backs off when a batch cannot get its row locks quickly
// (so the application never waits on us long enough to be chosen as a deadlock victim), and
// checkpoints the last key after every batch so a killed run resumes there.
#pragma once

#include <chrono>
#include <functional>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "zerodown/common/progress.hpp"
#include "zerodown/pg/connection.hpp"

namespace zerodown::engine {

struct BackfillOptions {
  std::chrono::milliseconds chunk_time{50};
  int first_batch = 500;
  int min_batch = 20;
  int max_batch = 20000;
  // Called before every batch; the throttler blocks here while it wants the pass to wait.
  std::function<void()> before_batch;
  // Called, when set, after a step every application session pays for on its next statement
  // (triggers put on its table, a table swapped in), before the next work; `after` names the
  // step. The monitor waits there for the application's sessions to settle.
  std::function<void(const std::string& after)> settle;
  // Read before every batch when set: the target time an operator changed while the pass runs
  // (`zerodown set chunk-time=…`); chunk_time otherwise.
  std::function<std::chrono::milliseconds()> chunk_time_source;
};

// Where a pass is: the last key done (text of each key column), rows done so far.
struct BackfillCheckpoint {
  std::vector<std::string> last_key;  // empty: from the start
  std::int64_t rows_done = 0;
  nlohmann::json ToJson() const;
  static BackfillCheckpoint FromJson(const nlohmann::json& json);
};

// Touches every row of schema.table in key order, starting after `from`. `save` is called after
// each committed batch with the new checkpoint and the estimated total.
void RunBackfill(pg::Connection& conn, const std::string& schema, const std::string& table,
                 const std::vector<std::string>& key_columns, const BackfillOptions& options,
                 BackfillCheckpoint from,
                 const std::function<void(const BackfillCheckpoint&, std::int64_t total)>& save,
                 ProgressSink& progress);

// The next batch size: the last one scaled by target/elapsed, moved at most 2x per step, within
// [min_batch, max_batch]. Pure; exposed for tests.
int NextBatchSize(int current, std::chrono::microseconds elapsed, const BackfillOptions& options);

}  // namespace zerodown::engine
