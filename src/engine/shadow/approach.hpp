// The swap's approach: what runs right before each attempt to take the swap's lock, so that the
// lock holds the table for as short a time as it can. Vacuums the log, waits out (or cancels)
// long lock holders, reads what the lock statement needs, and replays the log down to a few
// entries: in rounds, in round trips, then in slices that hold the application's writes. Takes
// no ACCESS EXCLUSIVE lock itself (cut_over.hpp does).
#pragma once

#include <chrono>
#include <cstdint>
#include <string>
#include <vector>

#include "engine/shadow/context.hpp"
#include "engine/shadow/replayer.hpp"

namespace zerodown::engine::shadow {

// What an approach leaves the lock attempt.
struct Approach {
  std::vector<std::string> referencing;  // tables whose foreign keys point at the live table
  std::vector<std::string> view_locks;   // see ViewLocks
  Clock::time_point last_catchup;        // when its last catch-up began
  std::int64_t left = 0;                 // log entries left, counted up to the log target
  int short_rounds = 0;                  // rounds of one round trip it ran
};

// Approaches the swap of `path`'s target; `also_lock` are the tables the swap locks beside the
// live one and those referencing it. Records its timings in the checkpoint (swap_vacuum_ms,
// swap_held_slices, …).
Approach ApproachSwap(Context& ctx, Replayer& replayer, const ReplayPath& path,
                      const std::vector<std::string>& also_lock);

// A swap attempt queues every query on the table behind its lock request for up to
// lock_timeout; against a holder that will not let go in time (an autovacuum, a report, a
// session idle in a transaction) that wait is pure harm. So before each attempt: an autovacuum
// on the tables (not one against wraparound) is cancelled, as PostgreSQL itself cancels one
// that blocks a lock request, and it runs again later; any other session that has held a lock
// on them for longer than half the lock_timeout is waited for, with the log kept short
// meanwhile, for at most as many rounds as the swap may take attempts. Reads the catalog and
// pg_stat_activity; on PostgreSQL 15 only a superuser may cancel an autovacuum (otherwise it
// is waited for like any other holder).
void WaitForLongHolders(Context& ctx, Replayer& replayer, const ReplayPath& path,
                        const std::vector<std::string>& also_lock);

// Replays `path`'s log in slices under a SHARE lock on the live table (kHeldWrites), until
// fewer entries than the swap's log target are left or kMaxHeldSlices were tried. SHARE stops
// the application's writes and so the log's growth, not its reads. A slice whose lock is not
// had in time is skipped. Not for a whole-log replay: a slice of its log could meet a collision
// in a unique index that the rest of the log resolves. Returns the entries left, counted up to
// the target.
std::int64_t ReplayWithWritesHeld(Context& ctx, Replayer& replayer, const ReplayPath& path);

}  // namespace zerodown::engine::shadow
