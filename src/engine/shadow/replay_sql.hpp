// The statements that replay a change log into a heap: take a batch of entries off the log,
// remove the target's rows under their keys, copy them again from the live heap as they are
// now, and purge after a TRUNCATE. Statement text only, over a ReplayPath (which log, which
// target); running them is the replayer's (replayer.hpp).
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "engine/key_sql.hpp"
#include "engine/shadow/context.hpp"
#include "zerodown/pg/catalog.hpp"

namespace zerodown::engine::shadow {

// Where a replay reads its log and what it rewrites: forward (the live heap's writes into the
// new heap, before the swap) or reverse (the new heap's writes into the kept old heap, for a
// rollback after the swap).
struct ReplayPath {
  std::string log;     // quoted
  std::string batch;   // quoted temporary table holding the log entries being applied
  std::string target;  // the heap whose rows are rewritten, quoted
  std::string copy;    // INSERT INTO target … the live rows whose keys are in `batch`
};

// The forward path; creates its batch table on the run's connection. Made before the first
// replay transaction, outside it: the temporary table must outlive a swap attempt that rolls
// back.
ReplayPath MakeForwardPath(Context& ctx);
// The reverse path: the old heap's columns as it has them, read from the new heap with a cast
// to the old type. Creates its batch table like MakeForwardPath.
ReplayPath MakeReversePath(Context& ctx);

// The old heap's columns in order, generated ones left out.
std::vector<pg::RelationColumn> OldHeapColumns(Context& ctx);

// Even with statistics, from about ten thousand keys the planner hashes them and scans both
// heaps whole: seconds on a table of millions of rows, per batch, which a busy table's log
// outgrows and the replay never catches up. Index probes per logged key cost what the log
// holds, whatever the table's size. Local to the transaction (a replay batch or the swap).
inline constexpr std::string_view kProbeByKey =
    "SELECT set_config('enable_hashjoin', 'off', true), set_config('enable_mergejoin', 'off', "
    "true)";

// Moves the first `limit` entries of the log (of its `share`, if any) to the batch table, in a
// walk along the log's index: after a long catch-up the log's heap holds thousands of empty
// pages that a scan of it would read. Returns how many it moved and how many of them are a
// TRUNCATE's.
std::string TakeSql(const KeySql& key, const ReplayPath& path, const std::string& share,
                    std::string_view limit);

// After a TRUNCATE of the live table: removes the target's rows whose keys the live table
// (`live`, quoted) no longer has. The rows it has are the ones written since, each logged and
// replayed (or, during the copy, ahead of it). A pass over the target, once per TRUNCATE.
std::string PurgeSql(const KeySql& key, const std::string& live, const ReplayPath& path);

// Removes the target's rows under the batch's keys. In key order, as the copy: the target heap
// and its key index were written in key order, so sorted probes find their pages one after
// another, each read once per batch. In log order they are random reads, and on a table larger
// than shared buffers nearly each misses.
std::string RemoveSql(const KeySql& key, const ReplayPath& path);

// Session `i` of `n` takes the log entries whose keys hash to `i`.
std::string ReplayShare(const KeySql& key, int i, int n);

// A short log's whole replay in one round trip (see Replayer::ReplayShortLog): up to `limit`
// entries, then the entries replayed, those left (counted up to `count_up_to`) and the
// TRUNCATEs among them.
std::string ShortLogSql(const KeySql& key, const ReplayPath& path, std::int64_t limit,
                        std::int64_t count_up_to);

}  // namespace zerodown::engine::shadow
