// Replays a change log into a heap, forward (the live table's writes into the new heap before
// the swap) or in reverse (the new heap's writes into the kept old heap, for a swap back): in
// rounds of batches on the run's connection and its helper sessions, until the log is short.
// The swap's last approach and its lock are the cut-over's (cut_over.hpp).
#pragma once

#include <algorithm>
#include <cstdint>
#include <limits>
#include <map>
#include <optional>
#include <span>
#include <string>
#include <utility>
#include <vector>

#include "engine/shadow/context.hpp"
#include "engine/shadow/replay_sql.hpp"
#include "engine/shadow/sessions.hpp"

namespace zerodown::engine::shadow {

// A replay batch's limit when it takes what the log holds.
constexpr std::int64_t kWholeLog = 10000000;

// Whether a log now `now` entries long (or a round that replayed `now`) is more than three
// quarters of `before`: the log has stopped getting shorter.
inline bool Settled(std::int64_t now, std::int64_t before) { return now > before / 4 * 3; }

// Seconds a catch-up needs for the `size` entries left, at the pace since it began with
// `start_size` `elapsed` seconds ago; empty when the log got no shorter.
inline std::optional<double> CatchUpSecondsLeft(std::int64_t start_size, std::int64_t size,
                                                double elapsed) {
  double shrunk_per_second = static_cast<double>(start_size - size) / elapsed;
  if (shrunk_per_second <= 0) return std::nullopt;
  return static_cast<double>(size) / shrunk_per_second;
}

// Milliseconds a log replay spent per step (summed over its sessions): taking entries off the
// log, analyzing and planning, removing the target's rows, copying them again.
struct ReplayMs {
  double take = 0, plan = 0, remove = 0, copy = 0;
  ReplayMs& operator+=(const ReplayMs& other) {
    take += other.take;
    plan += other.plan;
    remove += other.remove;
    copy += other.copy;
    return *this;
  }
};

class Replayer {
 public:
  Replayer(Context& ctx, HelperSessions& sessions) : ctx_(ctx), sessions_(sessions) {}

  // The two paths, made on first use (see MakeForwardPath).
  const ReplayPath& Forward();
  const ReplayPath& Reverse();

  // Replays the log in short transactions until fewer than `below` entries are left, or the log
  // has settled below kSettledLog. A long log (a busy table, a swap postponed for hours) is
  // taken in growing batches: the per-batch work (statistics, planning, the log's own index
  // walk) is then paid per many entries, so the replay outruns the writes that fill the log
  // instead of trailing them. Returns how many entries were left (counted up to the larger of
  // `below` and kSettledLog) when it stopped.
  std::int64_t CatchUp(const ReplayPath& path, std::int64_t below,
                       int max_rounds = std::numeric_limits<int>::max());

  // Replays what the log holds when it is short, in the transaction open on `c`: in one round
  // trip (each is time the application's writes add to the log, or, under the swap's lock,
  // time it queues for), without the batch's statistics (a few dozen keys are probed by index
  // either way). Returns how many entries it replayed and how many the log holds after them
  // (counted as CatchUp does, up to the swap's log target).
  std::pair<std::int64_t, std::int64_t> ReplayShortLog(pg::Connection& c, const ReplayPath& path,
                                                       std::int64_t limit = kWholeLog);

  // Whether `path`'s target has (or, for the new heap, will have) a unique index two keys can
  // collide in: the live table's indexes are the new heap's, some built only after a replay.
  bool WholeLogReplay(const ReplayPath& path);

  // The sessions a replay round of `path` runs beside the run's connection, in either
  // direction: after the swap the application writes the new heap as fast as it wrote the old
  // one, and one session replaying it trailed 8 writers for minutes. None for a whole-log
  // replay.
  std::span<pg::Connection> HelpersFor(const ReplayPath& path);

  // The entries `path`'s log holds, counted along its index up to `up_to`.
  std::int64_t CountLog(const ReplayPath& path, std::int64_t up_to);

  // The entries the swap's approach replays the log down to: ShadowCopyOptions::swap_log_target,
  // at least one (0 asks for a slice before every swap, see CutOver).
  std::int64_t LogTarget() const;

  // The time the replay spent per step since the last reset.
  ReplayMs& ms() { return replay_ms_; }

 private:
  // How long the log was when last looked at, and when; when the user was last told it would
  // take long.
  struct LogPace {
    Clock::time_point at;
    std::int64_t size = 0;
    std::optional<Clock::time_point> said;
  };

  // Applies up to `limit` logged changes on `c`: each logged key's row is removed from the
  // target and copied again from the live heap as it is now. `share`, when set, is a condition
  // on the log's keys: only the entries it holds for are taken. Adds each step's time to `ms`.
  // Returns how many log entries it consumed.
  std::int64_t ReplayBatch(pg::Connection& c, const ReplayPath& path, std::int64_t limit,
                           ReplayMs& ms, const std::string& share = "");
  // One transaction per session, run side by side: each replays up to `limit` entries of its
  // share of the log. Returns what each took.
  std::vector<std::int64_t> ReplayRound(const ReplayPath& path, std::int64_t limit);
  // The sessions that replay `path`'s log beside the run's own connection, each its own share
  // of the keys (none with --replay-sessions 1).
  std::span<pg::Connection> ReplayHelpers(const ReplayPath& path);
  // The log's length from its first and last sequence numbers: more than it holds where the
  // replay's sessions left holes, but read from the ends of an index, not counted.
  std::int64_t LogSizeEstimate(const ReplayPath& path);
  void SayIfTheLogOutrunsTheReplay(const ReplayPath& path, LogPace& pace);
  // The sessions a replay round runs now: replay_sessions, or catch_up_sessions once a
  // catch-up was found slow (WidenIfSlow).
  int Sessions() const { return std::max(widened_to_, ctx_.options.replay_sessions); }
  // Once, a second into a catch-up that began at `start` (the log's size then): when at that
  // pace the log would take longer than kSlowCatchUp, the replay takes catch_up_sessions.
  void WidenIfSlow(const ReplayPath& path, const LogPace& start);

  Context& ctx_;
  HelperSessions& sessions_;
  std::optional<ReplayPath> forward_;
  std::optional<ReplayPath> reverse_;
  ReplayMs replay_ms_;
  std::map<std::string, std::size_t> replay_batch_tables_;  // batch table -> helpers that have it
  std::map<std::string, bool> unique_beyond_key_;           // table -> HasUniqueBeyondKey
  int widened_to_ = 0;
  bool pace_judged_ = false;
};

}  // namespace zerodown::engine::shadow
