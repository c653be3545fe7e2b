#include "engine/shadow/replayer.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <future>

#include "engine/crash_point.hpp"
#include "engine/shadow/indexes.hpp"

namespace zerodown::engine::shadow {

namespace {

// Log entries consumed per replay transaction, at first and at most (see CatchUp).
constexpr std::int64_t kReplayBatch = 5000;
constexpr std::int64_t kMaxReplayBatch = 320000;
// A catch-up looks this often at whether the log gets shorter fast enough to be replayed within
// kPatience, and says so when not (see SayIfTheLogOutrunsTheReplay).
constexpr std::chrono::seconds kPaceWindow{5};
constexpr std::chrono::seconds kPatience{120};
// Below this many entries, a catch-up round that leaves the log more than three quarters as long
// as the round before ends the catch-up: the log has settled where the application writes as
// much while a round runs as the round replays. On W1 (7,000 writes a second against a replay
// of 10,000-14,000) a catch-up spent 7.5 s in 12 rounds hovering around 1,000 entries, and
// others hovered at 10,000-20,000 for 20-40 s. The swap's approach replays the rest, in rounds
// of one round trip, then in slices that hold the writes: 41 of them replayed 22,750 entries in
// 1.4 s there.
constexpr std::int64_t kSettledLog = 20000;
// A catch-up that would take longer than this at the pace of its first second grows to
// catch_up_sessions (see WidenIfSlow).
constexpr std::chrono::seconds kSlowCatchUp{3};
constexpr std::chrono::seconds kCatchUpPaceAfter{1};

}  // namespace

const ReplayPath& Replayer::Forward() {
  if (!forward_) forward_ = MakeForwardPath(ctx_);
  return *forward_;
}

const ReplayPath& Replayer::Reverse() {
  if (!reverse_) reverse_ = MakeReversePath(ctx_);
  return *reverse_;
}

std::int64_t Replayer::ReplayBatch(pg::Connection& c, const ReplayPath& path, std::int64_t limit,
                                   ReplayMs& ms, const std::string& share) {
  Clock::time_point step = Clock::now();
  auto lap = [&](double& total) {
    Clock::time_point now = Clock::now();
    total += std::chrono::duration<double>(now - step).count() * 1000;
    step = now;
  };
  // Not DELETE: nothing vacuums a temporary table, so each batch would be appended after the
  // dead rows of all the batches before it, and every scan of it (ANALYZE, the joins) would
  // read them all: 23 ms of the 74 the swap's replay took at 20 M rows.
  c.Exec(fmt::format("TRUNCATE {}", path.batch));
  pg::Rows took = c.Exec(TakeSql(ctx_.key, path, share, "$1"), {std::to_string(limit)});
  std::int64_t taken = took.Int(0, 0);
  lap(ms.take);
  if (taken == 0) return 0;
  // Autovacuum never analyzes a temporary table: without statistics the planner would join a
  // few thousand keys to the whole table with a sequential scan.
  c.Exec(fmt::format("ANALYZE {}", path.batch));
  c.Exec(kProbeByKey);
  lap(ms.plan);
  c.Exec(RemoveSql(ctx_.key, path));
  lap(ms.remove);
  c.Exec(path.copy);
  if (took.Int(0, 1) > 0) c.Exec(PurgeSql(ctx_.key, ctx_.live, path));
  lap(ms.copy);
  return taken;
}

std::pair<std::int64_t, std::int64_t> Replayer::ReplayShortLog(pg::Connection& c,
                                                               const ReplayPath& path,
                                                               std::int64_t limit) {
  pg::Rows counts = c.Run(ShortLogSql(ctx_.key, path, limit, LogTarget()));
  if (counts.Int(0, 2) > 0) c.Exec(PurgeSql(ctx_.key, ctx_.live, path));
  return {counts.Int(0, 0), counts.Int(0, 1)};
}

std::span<pg::Connection> Replayer::ReplayHelpers(const ReplayPath& path) {
  std::vector<pg::Connection>& all = sessions_.Get(Sessions(), "replaying the change log of");
  std::size_t n = std::min<std::size_t>(all.size(), Sessions() - 1);
  for (std::size_t& made = replay_batch_tables_[path.batch]; made < n; ++made) {
    all[made].Exec(
        fmt::format("CREATE TEMP TABLE IF NOT EXISTS {} (LIKE {})", path.batch, path.log));
  }
  return {all.data(), n};
}

bool Replayer::WholeLogReplay(const ReplayPath& path) {
  const std::string& table = path.log == ctx_.log ? ctx_.live : path.target;
  auto known = unique_beyond_key_.find(table);
  if (known != unique_beyond_key_.end()) return known->second;
  bool beyond = HasUniqueBeyondKey(ctx_.conn, ctx_.spec.key_columns, table);
  unique_beyond_key_[table] = beyond;
  return beyond;
}

std::span<pg::Connection> Replayer::HelpersFor(const ReplayPath& path) {
  if (WholeLogReplay(path)) return {};
  return ReplayHelpers(path);
}

// Where the target has a unique index two keys can collide in, one repeatable-read
// transaction instead takes the whole log and copies its keys as of the same snapshot: the
// target is then the table as it was at that moment, which the table's unique indexes held.
// Sessions side by side would each copy their keys as of a moment of their own.
std::vector<std::int64_t> Replayer::ReplayRound(const ReplayPath& path, std::int64_t limit) {
  if (WholeLogReplay(path)) {
    pg::Transaction tx(ctx_.conn, "BEGIN ISOLATION LEVEL REPEATABLE READ");
    std::int64_t taken = ReplayBatch(ctx_.conn, path, kWholeLog, replay_ms_);
    tx.Commit();
    ctx_.report.log_entries_replayed += taken;
    return {taken};
  }
  std::span<pg::Connection> helpers = HelpersFor(path);
  int n = static_cast<int>(helpers.size()) + 1;
  auto replay = [&](pg::Connection& c, int i, ReplayMs& ms) {
    pg::Transaction tx(c);
    std::int64_t taken = ReplayBatch(c, path, limit, ms, n > 1 ? ReplayShare(ctx_.key, i, n) : "");
    tx.Commit();
    return taken;
  };
  std::vector<ReplayMs> helper_ms(helpers.size());
  std::vector<std::future<std::int64_t>> others;
  for (std::size_t h = 0; h < helpers.size(); ++h) {
    others.push_back(std::async(std::launch::async, replay, std::ref(helpers[h]),
                                static_cast<int>(h) + 1, std::ref(helper_ms[h])));
  }
  std::vector<std::int64_t> taken = {replay(ctx_.conn, 0, replay_ms_)};
  for (std::size_t h = 0; h < others.size(); ++h) {
    taken.push_back(others[h].get());
    replay_ms_ += helper_ms[h];
  }
  for (std::int64_t t : taken) ctx_.report.log_entries_replayed += t;
  return taken;
}

std::int64_t Replayer::CatchUp(const ReplayPath& path, std::int64_t below, int max_rounds) {
  // Not in the swap's last approach (bounded in rounds): one more round trip there is more to
  // replay under its lock.
  bool paced = max_rounds == std::numeric_limits<int>::max();
  LogPace pace{Clock::now(), paced ? LogSizeEstimate(path) : 0, std::nullopt};
  const LogPace start = pace;
  std::int64_t batch = kReplayBatch;
  // The swap's last approach (bounded) counts no further than `below`: each entry walked there
  // is time the application adds to what the lock replays.
  std::int64_t settled_below = paced ? std::max(below, kSettledLog) : below;
  std::int64_t previous = std::numeric_limits<std::int64_t>::max();
  for (int round = 1;; ++round) {
    if (ctx_.options.chunks.before_batch) ctx_.options.chunks.before_batch();
    std::vector<std::int64_t> taken = ReplayRound(path, batch);
    CrashPoint(path.log == ctx_.log ? "catchup" : "swap_back_catchup");
    if (paced) {
      WidenIfSlow(path, start);
      SayIfTheLogOutrunsTheReplay(path, pace);
    }
    if (*std::max_element(taken.begin(), taken.end()) == batch) {
      batch = std::min(batch * 2, kMaxReplayBatch);
      // The swap's approach stops after its rounds however long the log still is: what they
      // left goes to the rounds of one round trip and the slices.
      if (round < max_rounds) continue;
    } else {
      batch = kReplayBatch;
    }
    // Counted along the log's key index from its start, as the swap's last batch will read it,
    // and no further than needed: the walk marks the entries the replay deleted as dead in
    // the index (PostgreSQL does so on the first scan that finds them dead to everyone), so
    // the batch under the swap's lock does not check them one by one against the heap: 178 ms
    // per million such entries, the first time (measured; 5 ms after).
    std::int64_t left = CountLog(path, settled_below);
    if (left < below || round >= max_rounds) return left;
    if (left < settled_below && Settled(left, previous)) return left;
    previous = left;
  }
}

std::int64_t Replayer::CountLog(const ReplayPath& path, std::int64_t up_to) {
  return ctx_.conn
      .Exec(fmt::format("SELECT count(*) FROM (SELECT 1 FROM {} ORDER BY _zd_seq LIMIT $1) AS t",
                        path.log),
            {std::to_string(up_to)})
      .Int(0, 0);
}

std::int64_t Replayer::LogTarget() const {
  return std::max<std::int64_t>(ctx_.options.swap_log_target, 1);
}

std::int64_t Replayer::LogSizeEstimate(const ReplayPath& path) {
  return ctx_.conn
      .Exec(fmt::format("SELECT coalesce(max(_zd_seq) - min(_zd_seq) + 1, 0) FROM {}", path.log))
      .Int(0, 0);
}

// Tells the user, once a minute at most, when at the pace of the last kPaceWindow the log
// would take longer than kPatience to replay, or never get shorter: the application writes
// about as fast as the replay runs (8 clients updating one row each in tight loops on 2
// cores: 22,000 changes a second against a replay of 23,000; a catch-up of 1.6 M entries took
// 79 s, a rollback's 330 s). Nothing is changed: replaying in slices that hold the writes
// converged no faster there, since a write costs the server about what replaying it does.
void Replayer::SayIfTheLogOutrunsTheReplay(const ReplayPath& path, LogPace& pace) {
  if (Clock::now() - pace.at < kPaceWindow) return;
  std::int64_t size = LogSizeEstimate(path);
  double window = std::chrono::duration<double>(Clock::now() - pace.at).count();
  std::optional<double> left = CatchUpSecondsLeft(pace.size, size, window);
  bool slow = size > ctx_.options.swap_when_log_below &&
              (!left || *left > static_cast<double>(kPatience.count()));
  if (slow && (!pace.said || Clock::now() - *pace.said > kPatience / 2)) {
    ctx_.progress.OnMessage(fmt::format(
        "catching up on {}: the log holds about {} entries, {} {:.0f} s ago; at this pace the "
        "replay {}. The application writes about as fast as the log is replayed: more replay "
        "sessions (--replay-sessions, {} now) or a quieter moment may help; the table serves "
        "meanwhile",
        ctx_.spec.table, size, pace.size, window,
        left ? fmt::format("takes about {:.0f} s more", *left) : "does not get ahead", Sessions()));
    pace.said = Clock::now();
  }
  pace.at = Clock::now();
  pace.size = size;
}

void Replayer::WidenIfSlow(const ReplayPath& path, const LogPace& start) {
  if (pace_judged_ || ctx_.options.catch_up_sessions <= ctx_.options.replay_sessions) return;
  double elapsed = std::chrono::duration<double>(Clock::now() - start.at).count();
  if (elapsed < static_cast<double>(kCatchUpPaceAfter.count())) return;
  pace_judged_ = true;
  std::int64_t size = LogSizeEstimate(path);
  std::optional<double> left = CatchUpSecondsLeft(start.size, size, elapsed);
  if (left && *left <= static_cast<double>(kSlowCatchUp.count())) return;
  widened_to_ = ctx_.options.catch_up_sessions;
  ctx_.progress.OnMessage(fmt::format(
      "catching up on {}: about {} entries left, {}; replaying with {} sessions, since what the "
      "application writes meanwhile is replayed too",
      ctx_.spec.table, size,
      left ? fmt::format("about {:.0f} s at this pace", *left) : "not getting shorter",
      widened_to_));
}

}  // namespace zerodown::engine::shadow
