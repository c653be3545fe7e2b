// The shadow copy: moves every row of a live table into a new heap with extra columns, the cheap
// way (INSERT … SELECT in key-ordered chunks, indexes built once afterwards, a change log
// replayed for what the application wrote meanwhile), then swaps the new heap in under one short
// ACCESS EXCLUSIVE lock. After the swap the table has the same name, rows, indexes, constraints,
// triggers, grants and dependent views as before, plus the extra columns, so expand/contract goes
// on exactly as if those columns had been added and backfilled in place. It does not keep the old
// heap in sync after the swap: the new heap still holds every original column, so a rollback
// only drops the extra columns.
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <vector>

#include "zerodown/engine/backfill.hpp"
#include "zerodown/engine/progress.hpp"
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
  // Run inside the swap's transaction once the new heap has the table's name (the triggers that
  // keep the extra columns in step from then on, their NOT VALID checks).
  std::vector<std::string> after_swap_sql;

  nlohmann::json ToJson() const;
  static ShadowCopySpec FromJson(const nlohmann::json& json);
  // Derived names for `table` in `schema`: shadow, retired, log table and function.
  static ShadowCopySpec Named(const std::string& schema, const std::string& table,
                              const std::string& migration);
  // The statements that remove whatever a copy left behind at any stage (rollback, or an
  // abandoned start): the log trigger, log, the unfinished new heap, the retired old heap.
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

struct ShadowCopyOptions {
  BackfillOptions chunks;  // chunk target time, throttle hook, live chunk time
  pg::LockRetryPolicy lock;
  std::function<void()> before_cutover;  // blocks while the cut-over is postponed
  // The change log is replayed until at most this many entries are left before the swap.
  std::int64_t swap_when_log_below = 2000;
};

// What a finished copy measured, for the progress sink and the bench.
struct ShadowCopyReport {
  std::int64_t rows_copied = 0;
  std::int64_t log_entries_replayed = 0;
  double copy_seconds = 0;
  double index_seconds = 0;
  double swap_lock_ms = 0;  // ACCESS EXCLUSIVE held on the table by the swap
  int swap_attempts = 0;
};

// Runs or resumes the copy from `checkpoint` (opaque JSON from an earlier `save`; null for a
// fresh start). `save` is called inside each step's own transaction so a kill leaves the
// checkpoint and the work consistent. Throws pg errors; kLockTimeout when the swap never got
// its lock within the retry policy (the copy stays ready; a rerun swaps).
ShadowCopyReport RunShadowCopy(
    pg::Connection& conn, const ShadowCopySpec& spec, const ShadowCopyOptions& options,
    const nlohmann::json& checkpoint,
    const std::function<void(const nlohmann::json&, std::int64_t rows, std::int64_t total)>& save,
    ProgressSink& progress);

}  // namespace zerodown::engine
