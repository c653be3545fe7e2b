#include "engine/shadow/approach.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <limits>
#include <random>
#include <thread>
#include <tuple>

#include "engine/shadow/dependents.hpp"
#include "zerodown/pg/lock_retry.hpp"

namespace zerodown::engine::shadow {

namespace {

// Right before each swap attempt the log is replayed down to ShadowCopyOptions::swap_log_target
// entries, in at most kFinalRounds rounds: what is left is replayed under the swap's lock, at
// about 25 µs an entry on a busy 2-core server (3,000 entries held a 1 M-row table's swap 78 of
// its 98 ms) ...
constexpr int kFinalRounds = 8;
// ... and then, one round trip per round, below this many.
constexpr std::int64_t kShortLog = 20;
// Rounds of a single round trip go on while the log holds swap_log_target or more, up to this
// many: a round slowed by the server (a 300 ms stall of its disk, at 6,000 writes a second)
// leaves thousands of entries, which the lock would otherwise replay (3,122 entries held a W1
// swap 71 ms).
constexpr int kMaxShortRounds = 24;
// When even those rounds leave the log long, the application writes about as fast as the replay
// runs (8 unthrottled writers on 2 cores: 33,375 entries left, replayed under the swap's lock in
// 224 ms). The rest is then replayed in slices that each hold the application's writes, and only
// its writes, for about this long: a SHARE lock on the table, waited for no longer than this
// either. Between two slices the application writes freely for half as long.
constexpr std::chrono::milliseconds kHeldWrites{20};
constexpr std::int64_t kFirstHeldSlice = 1000;  // entries; then sized by the time each took
constexpr int kMaxHeldSlices = 100;
// A round of one round trip that replays this many entries or more, and more than three quarters
// of what the round before replayed, ends those rounds too: the slices take over.
constexpr std::int64_t kSettledShortLog = 1000;

// Rounds of a single round trip, on one session: a batch's nine leave the application the time
// to log about as many entries as the lock would find.
void ShortRounds(Context& ctx, Replayer& replayer, const ReplayPath& path, Approach& approach) {
  int round = 0;
  std::int64_t previous = std::numeric_limits<std::int64_t>::max();
  for (; (round < kFinalRounds && approach.left >= kShortLog) ||
         (round < kMaxShortRounds && approach.left >= replayer.LogTarget());
       ++round) {
    pg::Transaction tx(ctx.conn, replayer.WholeLogReplay(path)
                                     ? "BEGIN ISOLATION LEVEL REPEATABLE READ"
                                     : "BEGIN");
    auto [replayed, now_left] = replayer.ReplayShortLog(ctx.conn, path);
    tx.Commit();
    ctx.report.log_entries_replayed += replayed;
    approach.left = now_left;
    if (!replayer.WholeLogReplay(path) && replayed >= kSettledShortLog &&
        Settled(replayed, previous)) {
      ++round;
      break;
    }
    previous = replayed;
  }
  approach.short_rounds = round;
}

// The sessions holding a lock on the live table or `also_lock` that the swap would queue
// behind: autovacuums, and others for longer than $1.
std::string LongHoldersSql(std::size_t tables_from, std::size_t tables_to) {
  std::string tables;
  for (std::size_t i = tables_from; i <= tables_to; ++i) {
    tables += fmt::format("{}${}::regclass", i > tables_from ? ", " : "", i);
  }
  return fmt::format(
      "SELECT DISTINCT a.pid, a.backend_type, l.mode, coalesce(extract(epoch FROM now() - "
      "coalesce(a.xact_start, a.query_start)) * 1000, 0)::bigint, a.backend_type = 'autovacuum "
      "worker' AND a.query NOT LIKE '%wraparound%' FROM pg_locks l JOIN pg_stat_activity a ON "
      "a.pid = l.pid WHERE l.locktype = 'relation' AND l.granted AND l.database = (SELECT oid "
      "FROM pg_database WHERE datname = current_database()) AND l.relation IN ({}) AND l.pid <> "
      "pg_backend_pid() AND (a.backend_type = 'autovacuum worker' OR now() - "
      "coalesce(a.xact_start, a.query_start) > $1::interval)",
      tables);
}

// Where ReplayWithWritesHeld's slices stand.
struct HeldSlices {
  std::int64_t limit = kFirstHeldSlice;  // entries the next slice replays at most
  std::int64_t left = 0;                 // entries left, counted up to the log target
  int tried = 0;                         // slices tried, those refused their lock included
  int skipped = 0;                       // slices refused their lock
  std::int64_t replayed = 0;             // entries replayed by all of them
  double longest_ms = 0;                 // the longest any held the writes
  double last_held_ms = 0;
};

// A slice waits for its SHARE lock no longer than it would hold it; one refused is tried again
// kHeldWrites later, without jitter, as long as slices are left to try.
pg::LockRetryPolicy SlicePolicy(const Context& ctx, int slices_left) {
  pg::LockRetryPolicy policy = ctx.options.lock;
  policy.lock_timeout = kHeldWrites;
  policy.max_attempts = slices_left;
  policy.first_backoff = kHeldWrites;
  policy.max_backoff = kHeldWrites;
  policy.jitter = 0;
  return policy;
}

// Replays one slice of at most `slices.limit` entries holding the application's writes, then
// sizes the next. False when every slice left was refused its lock.
bool HoldOneSlice(Context& ctx, Replayer& replayer, const ReplayPath& path, HeldSlices& slices) {
  Clock::time_point locked;
  double replay_ms = 0;
  std::int64_t replayed = 0;
  auto refused = [&] {
    ++slices.tried;
    ++slices.skipped;
  };
  try {
    pg::RunWithLockRetry(
        ctx.conn, SlicePolicy(ctx, kMaxHeldSlices - slices.tried),
        "hold writes to " + ctx.spec.table,
        [&](pg::Connection& c) {
          c.Exec(fmt::format("LOCK TABLE {} IN SHARE MODE", ctx.live));
          locked = Clock::now();
          std::tie(replayed, slices.left) = replayer.ReplayShortLog(c, path, slices.limit);
          replay_ms = SecondsSince(locked) * 1000;
        },
        [&](int, std::chrono::milliseconds, const Error&) { refused(); });
  } catch (const Error& error) {
    if (error.kind() != ErrorKind::kLockTimeout) throw;
    refused();
    return false;
  }
  ++slices.tried;
  slices.last_held_ms = SecondsSince(locked) * 1000;
  slices.longest_ms = std::max(slices.longest_ms, slices.last_held_ms);
  slices.replayed += replayed;
  ctx.report.log_entries_replayed += replayed;
  // Sized by the time the last one took, at most doubled: a slice of a few hundred entries
  // that ran fast says little about one of tens of thousands.
  if (replayed == slices.limit && replay_ms > 0) {
    slices.limit =
        std::clamp<std::int64_t>(static_cast<std::int64_t>(static_cast<double>(slices.limit) *
                                                           kHeldWrites.count() / replay_ms),
                                 kFirstHeldSlice / 10, 2 * slices.limit);
  }
  return true;
}

}  // namespace

Approach ApproachSwap(Context& ctx, Replayer& replayer, const ReplayPath& path,
                      const std::vector<std::string>& also_lock) {
  // The replayed entries are dead rows at the head of the log's index, which every batch's
  // walk (and the one under the lock) steps over until a vacuum removes them: hundreds of
  // thousands after a long catch-up. The application's inserts into the log do not conflict
  // with a vacuum, but they do with the ACCESS EXCLUSIVE lock a vacuum takes to cut empty
  // pages off the end: VACUUM tries for it for up to 5 s (and holds the inserts up when it
  // gets it), hence TRUNCATE OFF. SKIP_LOCKED: an autovacuum of the log is doing the work.
  Clock::time_point prepared = Clock::now();
  ctx.conn.Exec(fmt::format("VACUUM (INDEX_CLEANUP ON, TRUNCATE OFF, SKIP_LOCKED) {}", path.log));
  ctx.checkpoint["swap_vacuum_ms"] = SecondsSince(prepared) * 1000;
  WaitForLongHolders(ctx, replayer, path, also_lock);
  Approach approach;
  // Read before the last catch-up, not between it and the lock: planning this catalog query
  // took 3-4 ms on a busy server, and every write in that time is one more entry to replay
  // under the lock. A foreign key added since is read with the rest under the lock; its
  // table is then locked when the swap re-creates the key, within lock_timeout.
  approach.referencing = ReferencingTables(ctx.conn, ctx.live);
  approach.view_locks = ViewLocks(ctx.conn, ctx.live);
  approach.last_catchup = Clock::now();
  approach.left = replayer.CatchUp(path, replayer.LogTarget(), kFinalRounds);
  ShortRounds(ctx, replayer, path, approach);
  ctx.checkpoint.erase("swap_held_slices");
  ctx.checkpoint.erase("swap_held_longest_ms");
  // Always with a target of 0.
  if (approach.left >= ctx.options.swap_log_target && !replayer.WholeLogReplay(path)) {
    approach.left = ReplayWithWritesHeld(ctx, replayer, path);
  }
  return approach;
}

void WaitForLongHolders(Context& ctx, Replayer& replayer, const ReplayPath& path,
                        const std::vector<std::string>& also_lock) {
  // $1 the patience, then the tables: $2, $3, … (quoted names do not survive an array literal).
  std::vector<pg::Param> params = {
      fmt::format("{} milliseconds", ctx.options.lock.lock_timeout.count() / 2), ctx.live};
  for (const auto& t : also_lock) params.emplace_back(t);
  std::string query = LongHoldersSql(2, params.size());
  std::mt19937_64 rng(std::random_device{}());
  for (int round = 1; round < ctx.options.lock.max_attempts; ++round) {
    pg::Rows holders = ctx.conn.Exec(query, params);
    if (holders.empty()) return;
    std::string who;
    bool cancelled = false;
    for (int r = 0; r < holders.size(); ++r) {
      who += fmt::format("{}pid {} ({}, {} for {} ms)", who.empty() ? "" : ", ", holders.Text(r, 0),
                         holders.Text(r, 1), holders.Text(r, 2), holders.Text(r, 3));
      if (holders.Bool(r, 4)) {
        auto result = ctx.conn.TryExec("SELECT pg_cancel_backend($1::int)", {holders.Text(r, 0)});
        cancelled = cancelled || (result.ok() && result->Bool(0, 0));
      }
    }
    auto delay =
        cancelled ? std::chrono::milliseconds(50) : pg::BackoffDelay(ctx.options.lock, round, rng);
    ctx.progress.OnMessage(fmt::format(
        "{} the swap of {}: {}; {}", cancelled ? "cleared the way for" : "waiting to try",
        ctx.spec.table, who,
        cancelled ? "cancelled the autovacuum (it runs again later)"
                  : fmt::format("trying again in {} ms without queueing the application",
                                delay.count())));
    std::this_thread::sleep_for(delay);
    replayer.CatchUp(path, ctx.options.swap_when_log_below);
  }
}

std::int64_t ReplayWithWritesHeld(Context& ctx, Replayer& replayer, const ReplayPath& path) {
  const std::int64_t target = replayer.LogTarget();
  HeldSlices slices;
  slices.left = target;
  Clock::time_point began = Clock::now();
  while (slices.tried < kMaxHeldSlices && slices.left >= target) {
    if (!HoldOneSlice(ctx, replayer, path, slices)) break;
    // Half as long free as held: at one to one, 8 writers as fast as the replay wrote
    // between two slices what the slice had replayed, for 100 slices.
    if (slices.left >= target) {
      std::this_thread::sleep_for(std::max<std::chrono::duration<double, std::milli>>(
          kHeldWrites / 2, std::chrono::duration<double, std::milli>(slices.last_held_ms / 2)));
    }
  }
  // The slices that held the writes; those refused their lock held nothing.
  int held = slices.tried - slices.skipped;
  ctx.checkpoint["swap_held_slices"] = held;
  ctx.checkpoint["swap_held_longest_ms"] = slices.longest_ms;
  ctx.progress.OnMessage(fmt::format(
      "before the swap of {}: {} logged changes replayed in {} slice{} that each held the "
      "application's writes (not its reads) for at most {:.1f} ms, {} more skipped for the "
      "lock, over {:.0f} ms; {} left",
      ctx.spec.table, slices.replayed, held, held == 1 ? "" : "s", slices.longest_ms,
      slices.skipped, SecondsSince(began) * 1000,
      slices.left >= target ? fmt::format("{} or more", target) : std::to_string(slices.left)));
  return slices.left;
}

}  // namespace zerodown::engine::shadow
