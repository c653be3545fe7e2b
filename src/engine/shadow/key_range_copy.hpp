// The copy of a table with a single integer key: the keys split into lanes (lanes.hpp), one per
// copy session, each walked upwards in ranges of key values sized to the chunk time, all side by
// side, each range with the checkpoint in its transaction. Part of the copier (copier.hpp).
#pragma once

#include <chrono>
#include <cstdint>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include "engine/copy_sql.hpp"
#include "engine/shadow/change_log.hpp"
#include "engine/shadow/context.hpp"
#include "engine/shadow/lanes.hpp"
#include "engine/shadow/sessions.hpp"

namespace zerodown::engine::shadow {

class KeyRangeCopy {
 public:
  KeyRangeCopy(Context& ctx, HelperSessions& sessions, LogPruner& pruner, const CopySql& sql)
      : ctx_(ctx), sessions_(sessions), pruner_(pruner), sql_(sql) {}

  // Copies what the lanes have left, up to copy_sessions side by side, and moves the stage to
  // "index" with the last range. Sets the report's copy_seconds. The first session's error is
  // thrown once every session has stopped.
  void Run();

 private:
  // The copy's lanes from the checkpoint, or made now (SplitLanes) and put in it. A copy begun
  // by an earlier version, with one position and no lanes, goes on as one lane.
  std::vector<CopyLane> Lanes();
  // Session `s` of `sessions` takes lanes s, s + sessions, …
  void RunSession(pg::Connection& c, std::size_t s, std::size_t sessions);
  void CopyLaneOn(pg::Connection& c, std::size_t i);
  // Under the lock: the range lane `i` reads next, its target time in `target`; nullopt when
  // another session failed.
  std::optional<LaneRange> BeginRange(std::size_t i, const CopyLane& lane, std::int64_t floor,
                                      std::chrono::milliseconds& target);
  // Under the lock: records the range in the checkpoint, commits `tx` and moves `lane` on.
  // Returns the seconds the range took; nullopt (and no commit) when another session failed.
  std::optional<double> EndRange(pg::Connection& c, pg::Transaction& tx, std::size_t i,
                                 CopyLane& lane, const LaneRange& range, std::int64_t copied,
                                 Clock::time_point chunk_start);
  // PruneLog for the lanes: the keys past the range each lane is reading, up to its end.
  void PruneLanes(pg::Connection& c);
  // A range's statement: from above `last` (or from `last` itself), to `hi` or to the end.
  std::string Statement(bool from_last, bool bounded) const;
  // The smallest key above $1 (and up to $2): where the next range begins after an empty one.
  std::string NextKeySql(bool bounded) const;

  Context& ctx_;
  HelperSessions& sessions_;
  LogPruner& pruner_;
  const CopySql& sql_;
  std::string alias_;    // the live table's name, quoted: the source rows' alias
  std::string min_key_;  // empty: the table had no rows when the copy began
  std::int64_t max_key_ = 0;
  std::vector<CopyLane> lanes_;
  std::int64_t done_at_start_ = 0;
  std::int64_t total_ = 0;
  Clock::time_point started_;
  // Guards the checkpoint, the ranges being read, the prune's watermark, the progress sink
  // and the hooks: the sessions only run their INSERTs outside it.
  std::mutex mutex_;
  bool stop_ = false;  // a session failed: the others stop before their next chunk
  // Per lane, the end of the range it is reading, or has read last (kUnbounded: to the end of
  // the key space). A prune keeps every entry at or below it: the range being read may have
  // begun before the write the entry logs.
  std::vector<std::int64_t> reading_;
};

}  // namespace zerodown::engine::shadow
