// The copy step of a shadow copy: every row of the live table into the new heap, in key order,
// each chunk with its checkpoint in the same transaction. A table with a single integer key is
// walked by value ranges in lanes side by side (KeyRangeCopy); any other key in LIMITed chunks
// after the last key copied. Does not replay the change log (replayer.hpp).
#pragma once

#include <cstdint>
#include <string>

#include "engine/copy_sql.hpp"
#include "engine/shadow/change_log.hpp"
#include "engine/shadow/context.hpp"
#include "engine/shadow/sessions.hpp"

namespace zerodown::engine::shadow {

// The copy's chunks aim at this many chunk times (--chunk-time): a chunk of the copy locks no
// row the application uses, so it can run longer than a backfill batch.
constexpr int kCopyChunkFactor = 4;

// Reports the copy's progress: `done_at_start` rows were copied before this run began at
// `started`, `batch` is the chunk's size in rows (or keys).
void ReportCopy(Context& ctx, Clock::time_point started, std::int64_t done_at_start,
                std::int64_t total, int batch, double last_chunk_ms);

class Copier {
 public:
  Copier(Context& ctx, HelperSessions& sessions, LogPruner& pruner)
      : ctx_(ctx), sessions_(sessions), pruner_(pruner) {}

  // Stage "copy" to "index". INSERT … SELECT in key ranges, each with its checkpoint in the same
  // transaction. A plain SELECT takes no row locks, so the application never waits on the copy;
  // the chunk time bounds how long each transaction keeps the xmin horizon back and how much a
  // kill redoes. Sets the report's copy_seconds.
  void Copy();

 private:
  // One statement per chunk, from the start of the table (`first`) or after the last key copied.
  std::string ChunkSql(const CopySql& sql, bool first) const;
  // Copies one chunk of at most `batch` rows in its own transaction, with the checkpoint.
  // Returns whether it reached the end of the table.
  bool CopyChunk(const std::string& copy_first, const std::string& copy_next, int batch,
                 std::int64_t& total);
  // Adds a chunk's rows to the checkpoint (in the chunk's transaction, before Save); the last
  // chunk moves the copy to the index stage and fixes the total. Returns the total to report.
  std::int64_t CountChunk(std::int64_t copied, bool last, std::int64_t total);

  Context& ctx_;
  HelperSessions& sessions_;
  LogPruner& pruner_;
};

}  // namespace zerodown::engine::shadow
