// The shadow copy: moves every row of a live table into a new heap with extra columns, the cheap
// way (INSERT … SELECT in key-ordered chunks, indexes built once afterwards, a change log
// replayed for what the application wrote meanwhile), then swaps the new heap in under one short
// ACCESS EXCLUSIVE lock. After the swap the table has the same name, rows, indexes, constraints,
// triggers, grants and dependent views as before, plus the extra columns, so expand/contract goes
// on exactly as if those columns had been added and backfilled in place. Then the new heap holds
// every original column, so a rollback only drops the extra columns and the old heap is dropped.
//
// A copy that changes the type of a key column (int -> bigint on the primary key) cannot be
// undone that way: the old heap is kept after the swap, every write to the new one logs its key
// (the reverse log), and a rollback replays that log into the old heap and swaps it back in
// (RunShadowSwapBack). `complete` drops the old heap.
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "zerodown/common/progress.hpp"
#include "zerodown/engine/backfill.hpp"
#include "zerodown/pg/connection.hpp"
#include "zerodown/pg/lock_retry.hpp"

namespace zerodown::engine {

// A column the copy has and the live table does not.
struct ShadowColumn {
  std::string name;        // physical
  std::string type;        // SQL type
  std::string expression;  // its value, SQL over the live row as the old version names columns
};

// A column the old version names differently from its physical name, or sees although it is not
// in the live heap yet (added by an earlier operation of the same migration: read as NULL).
struct SourceName {
  std::string physical;  // empty: not in the heap; `type` then says what NULL to read
  std::string name;
  std::string type;
};

// A live column whose type the new heap changes (a primary-key column: int -> bigint). The copy
// casts its values; views over the table are re-created for the new type at the swap.
struct RetypedColumn {
  std::string name;        // physical
  std::string type;        // SQL type in the new heap
  std::string expression;  // its value, SQL over the live row as the old version names columns
};

struct ShadowCopySpec {
  std::string schema;
  std::string table;                     // physical name of the live table
  std::vector<std::string> key_columns;  // its primary key, in order
  std::string shadow;                    // the new heap's name while it is filled
  std::string retired;                   // the live heap's name after the swap, until dropped
  std::string log_table;                 // the change log, in the zerodown schema
  std::string log_function;              // the change log's trigger function, in zerodown
  std::vector<ShadowColumn> added;
  std::vector<SourceName> names;
  std::vector<RetypedColumn> retyped;
  // Keep the old heap after the swap, with a reverse log, until complete (a rollback swaps it
  // back); otherwise it is dropped right after the swap.
  bool keep_old_heap = false;
  std::string reverse_log_table;     // in zerodown: keys written to the new heap after the swap
  std::string reverse_log_function;  // in zerodown: its trigger function
  // Run inside the swap's transaction once the new heap has the table's name (the triggers that
  // keep the extra columns in step from then on, their NOT VALID checks).
  std::vector<std::string> after_swap_sql;

  nlohmann::json ToJson() const;
  static ShadowCopySpec FromJson(const nlohmann::json& json);
  // Derived names for `table` in `schema`: shadow, retired, log table and function.
  static ShadowCopySpec Named(const std::string& schema, const std::string& table,
                              const std::string& migration);
  // The statements that remove whatever a copy left behind at any stage (rollback, an abandoned
  // start, complete of a copy that kept the old heap): the log triggers, logs, the unfinished new
  // heap, the retired old heap.
  std::vector<std::string> CleanupSql(pg::Connection& conn) const;
};

// What blocks the shadow copy of a table: partitions, inheritance, row-level security policies,
// publications, rules, exclusion constraints, identity or generated columns, materialized views
// over it. Empty when the copy can go ahead. Reads the catalog only.
std::vector<std::string> ShadowCopyBlockers(pg::Connection& conn, const std::string& schema,
                                            const std::string& table);

// What the planner prints to choose between an in-place backfill and a shadow copy.
struct TableEstimate {
  std::int64_t rows = 0;  // pg_class.reltuples (after ANALYZE or VACUUM; 0 when never counted)
  std::int64_t table_bytes = 0;
  std::int64_t index_bytes = 0;
  int indexes = 0;
};
TableEstimate EstimateTable(pg::Connection& conn, const std::string& schema,
                            const std::string& table);

// What the copy checks before its swap (see docs/migrations.md): rows of the live table against
// the new heap, with the keys written since the last replay skipped.
enum class CopyCheckMode {
  kOff,
  kSample,  // pages for about ShadowCopyOptions::check_sample_rows rows: 0.5-1 s on W1 under load
  kFull,    // every row: a pass over both heaps
};
// "off", "sample" or "full"; nullopt for anything else.
std::optional<CopyCheckMode> CopyCheckModeFromName(std::string_view name);

struct ShadowCopyOptions {
  BackfillOptions chunks;  // chunk target time, throttle hook, live chunk time
  pg::LockRetryPolicy lock;
  std::function<void()> before_cutover;  // blocks while the cut-over is postponed
  // The change log is replayed until fewer than this many entries are left before the swap, or
  // until it stops getting shorter (below 20,000 entries: the application writes as much as
  // each round of the replay takes; the swap's approach then replays the rest).
  std::int64_t swap_when_log_below = 1000;
  // ... and then, in rounds of one round trip each, to below this many: what is left is replayed
  // under the swap's lock. Where the rounds cannot get there (the application writes about as
  // fast as the log is replayed), the rest is replayed in slices that each hold the
  // application's writes, not its reads, for about 20 ms. 0: as 1, and at least one such
  // slice before every swap (the tests' way to make them run whatever the machine's speed).
  std::int64_t swap_log_target = 100;
  // Sessions that replay the log side by side before the swap, each a share of the keys. The
  // replay's cost falls with its speed against the table's write rate: the writes it trails are
  // replayed too (see ReplayHelpers for when it stays at one).
  int replay_sessions = 2;
  // Sessions a catch-up grows to (from replay_sessions) when, at the pace of its first second,
  // the log would take longer than kSlowCatchUp to replay. Waiting saves nothing there: what
  // the application writes meanwhile is replayed too, so a slow catch-up costs it more in all
  // (W1 at 3,300 writes a second: one session replayed 100,821 changes in 23.5 s). 0: no growth.
  int catch_up_sessions = 0;
  // Sessions that copy a table with a single integer key side by side, each its own range of
  // keys. What the application pays during a copy is mostly paid per second it lasts (the change
  // log's trigger, the writes the replay trails), and a second session mostly takes CPU the
  // application leaves idle: on W1 (2 cores, 8 clients) two took the type change from 29 s to
  // 20-22 s and cost the application 13-16% fewer transactions. Four cost no less than two.
  int copy_sessions = 2;
  // Whether an index build on the new heap may use the server's parallel maintenance workers
  // (max_parallel_maintenance_workers, 2 by default): faster, but for a moment it takes every
  // core of a small server. Off where the application leaves headroom it needs.
  bool parallel_index_builds = true;
  // A copy that differs from the table is never swapped in: the start fails instead.
  CopyCheckMode check_before_swap = CopyCheckMode::kSample;
  std::int64_t check_sample_rows = 10000;
};

// What a finished copy measured, for the progress sink and the bench.
struct ShadowCopyReport {
  std::int64_t rows_copied = 0;
  std::int64_t log_entries_replayed = 0;
  double copy_seconds = 0;
  double index_seconds = 0;
  std::int64_t rows_checked = 0;  // rows compared with the table before the swap
  double swap_lock_ms = 0;        // ACCESS EXCLUSIVE held on the table by the swap
  int swap_attempts = 0;
};

// Saves a step's checkpoint through `conn`, inside the transaction open on it: the copy's
// sessions each save their own chunk's progress with it.
using SaveCheckpoint = std::function<void(pg::Connection& conn, const nlohmann::json& checkpoint,
                                          std::int64_t rows, std::int64_t total)>;

// Runs or resumes the copy from `checkpoint` (opaque JSON from an earlier `save`; null for a
// fresh start). `save` is called inside each step's own transaction so a kill leaves the
// checkpoint and the work consistent. Throws pg errors; kLockTimeout when the swap never got
// its lock within the retry policy (the copy stays ready; a rerun swaps).
ShadowCopyReport RunShadowCopy(pg::Connection& conn, const ShadowCopySpec& spec,
                               const ShadowCopyOptions& options, const nlohmann::json& checkpoint,
                               const SaveCheckpoint& save, ProgressSink& progress);

// Throws kMigrationFailed, before anything changes, when a row written to the table since the
// swap of a copy that kept the old heap does not fit the old heap's types (RunShadowSwapBack
// would fail on it). Reads only.
void CheckShadowSwapBack(pg::Connection& conn, const ShadowCopySpec& spec);

// Undoes the swap of a copy that kept the old heap (keep_old_heap): replays the reverse log into
// the old heap, then in one transaction under lock_timeout (retried like the swap) applies the
// last entries, gives the old heap its name, indexes, views, triggers, foreign keys and grants
// back, and renames the new heap to `spec.shadow` for the rollback to drop. Does nothing when
// there is no old heap (the swap never happened, or was already undone). `forward` is the copy's
// own checkpoint (it names the indexes the swap renamed); `checkpoint`/`save` are this step's.
// Throws kMigrationFailed when a row written after the swap does not fit the old types (a row
// written after CheckShadowSwapBack ran; nothing is swapped then).
void RunShadowSwapBack(pg::Connection& conn, const ShadowCopySpec& spec,
                       const ShadowCopyOptions& options, const nlohmann::json& forward,
                       const nlohmann::json& checkpoint, const SaveCheckpoint& save,
                       ProgressSink& progress);

}  // namespace zerodown::engine
