#include "engine/shadow/cut_over.hpp"

#include <fmt/format.h>

#include <thread>

#include "engine/shadow/indexes.hpp"
#include "engine/shadow/sequences.hpp"
#include "zerodown/pg/lock_retry.hpp"

namespace zerodown::engine::shadow {

namespace {

// When even the approach leaves this many, the lock would be held for tens of milliseconds (at
// 7-25 µs an entry; 86,734 held one 606 ms): the swap is not attempted then, but retried after
// a catch-up, as after a lock timeout.
constexpr std::int64_t kMaxLogUnderLock = 2000;

}  // namespace

void CutOver::Swap(const std::string& what, const std::string& done, const ReplayPath& path,
                   const std::vector<std::string>& also_lock, bool types_change,
                   const std::function<void(pg::Connection&, const Dependent&)>& body) {
  std::mt19937_64 rng(std::random_device{}());
  PlanSwapReads(types_change, also_lock.front());
  for (int attempt = 1;; ++attempt) {
    Approach approach = ApproachSwap(ctx_, replayer_, path, also_lock);
    if (approach.left >= replayer_.LogTarget() &&
        replayer_.CountLog(path, kMaxLogUnderLock) >= kMaxLogUnderLock) {
      PutOff(what, attempt, path, rng);
      continue;
    }
    ctx_.checkpoint["swap_last_catchup_ms"] = SecondsSince(approach.last_catchup) * 1000;
    ctx_.checkpoint["swap_short_rounds"] = approach.short_rounds;
    double held_ms = 0;
    try {
      held_ms = Hold(what, path, also_lock, approach, types_change, attempt, body);
    } catch (const Error& error) {
      if (error.kind() != ErrorKind::kLockTimeout || attempt >= ctx_.options.lock.max_attempts) {
        throw;
      }
      auto delay = pg::BackoffDelay(ctx_.options.lock, attempt, rng);
      ctx_.progress.OnLockRetry(what, attempt, delay);
      std::this_thread::sleep_for(delay);
      replayer_.CatchUp(path, ctx_.options.swap_when_log_below);
      continue;
    }
    ctx_.checkpoint["swap_lock_ms"] = held_ms;
    SayHeld(done, held_ms, attempt);
    return;
  }
}

void CutOver::PlanSwapReads(bool types_change, const std::string& other) {
  pg::Transaction tx(ctx_.conn);
  ReadDependents(ctx_.conn, ctx_, types_change);
  LiveIndexes(ctx_.conn, ctx_);
  IdentitySequences(ctx_.conn, ctx_.live, other);
  if (types_change) WidenSequences(ctx_.conn, ctx_.spec, ctx_.live);
}

void CutOver::PutOff(const std::string& what, int attempt, const ReplayPath& path,
                     std::mt19937_64& rng) {
  if (attempt >= ctx_.options.lock.max_attempts) {
    throw Error(ErrorKind::kLockTimeout,
                fmt::format("{}: after {} attempts the change log still held {} or more "
                            "entries right before the lock, which it would replay while "
                            "holding it; the application writes to {} about as fast as "
                            "the log is replayed",
                            what, attempt, kMaxLogUnderLock, ctx_.spec.table),
                "Run the command again at a quieter moment, or with more --replay-sessions: "
                "nothing is lost, and it resumes with the catch-up.");
  }
  auto delay = pg::BackoffDelay(ctx_.options.lock, attempt, rng);
  ctx_.progress.OnMessage(fmt::format(
      "not trying to {} yet: {} or more logged changes are still left, which the lock "
      "would hold the table for while replaying them; catching up and trying again in {} ms",
      what, kMaxLogUnderLock, delay.count()));
  std::this_thread::sleep_for(delay);
  replayer_.CatchUp(path, ctx_.options.swap_when_log_below);
}

double CutOver::Hold(const std::string& what, const ReplayPath& path,
                     const std::vector<std::string>& also_lock, const Approach& approach,
                     bool types_change, int attempt,
                     const std::function<void(pg::Connection&, const Dependent&)>& body) {
  pg::LockRetryPolicy once = ctx_.options.lock;
  once.max_attempts = 1;
  Clock::time_point approached = Clock::now();
  nlohmann::json before = ctx_.checkpoint.json();
  try {
    Clock::time_point locked;
    pg::RunWithLockRetry(ctx_.conn, once, what, [&](pg::Connection& c) {
      // The tables only zerodown and autovacuum use come first: waiting for them must not
      // hold the live table's lock with the application queued behind it.
      // Then the views over the table, then the table: the order the application locks
      // them in. One round trip.
      std::string locks;
      for (const auto& t : also_lock) locks += (locks.empty() ? "" : ", ") + t;
      locks = fmt::format("LOCK TABLE {} IN ACCESS EXCLUSIVE MODE; ", locks);
      for (const auto& v : approach.view_locks) locks += v + "; ";
      std::string tables = ctx_.live;
      for (const auto& t : approach.referencing) tables += ", " + t;
      c.Run(locks + fmt::format("LOCK TABLE {} IN ACCESS EXCLUSIVE MODE", tables));
      locked = Clock::now();
      ctx_.checkpoint["swap_log_before"] = approach.left;
      ctx_.checkpoint["swap_wait_ms"] =
          std::chrono::duration<double>(locked - approached).count() * 1000;
      std::int64_t replayed = replayer_.ReplayShortLog(c, path).first;
      ctx_.report.log_entries_replayed += replayed;
      // Where the lock's time goes, for the benchmark's record of the swap.
      ctx_.checkpoint["swap_replayed"] = replayed;
      ctx_.checkpoint["swap_replay_ms"] = SecondsSince(locked) * 1000;
      // Nothing can change these from here on.
      Dependent dependents = ReadDependents(c, ctx_, types_change);
      ctx_.checkpoint["swap_read_ms"] = SecondsSince(locked) * 1000;
      body(c, dependents);
      ctx_.checkpoint["swap_body_ms"] = SecondsSince(locked) * 1000;
      ctx_.checkpoint["swap_attempts"] = attempt;
      ctx_.checkpoint["swap_lock_ms"] = SecondsSince(locked) * 1000;
      ctx_.Save();
    });
    return SecondsSince(locked) * 1000;
  } catch (const Error&) {
    ctx_.checkpoint.json() = before;  // the attempt's transaction rolled back
    throw;
  }
}

void CutOver::SayHeld(const std::string& done, double held_ms, int attempt) {
  const Checkpoint& cp = ctx_.checkpoint;
  ctx_.progress.OnMessage(fmt::format(
      "{}: ACCESS EXCLUSIVE held {:.1f} ms (attempt {}; the last {} logged changes replayed "
      "under it in {:.1f} ms, catalog read by {:.1f} ms, swap done by {:.1f} ms; {} left "
      "before it, lock had {:.1f} ms after; before it the log was vacuumed in {:.0f} ms and "
      "caught up in {:.0f} ms, the last {} round trip{}), {} logged changes replayed in all",
      done, held_ms, attempt, cp.value("swap_replayed", std::int64_t{0}),
      cp.value("swap_replay_ms", 0.0), cp.value("swap_read_ms", 0.0), cp.value("swap_body_ms", 0.0),
      cp.value("swap_log_before", std::int64_t{0}), cp.value("swap_wait_ms", 0.0),
      cp.value("swap_vacuum_ms", 0.0), cp.value("swap_last_catchup_ms", 0.0),
      cp.value("swap_short_rounds", 0), cp.value("swap_short_rounds", 0) == 1 ? "" : "s",
      ctx_.report.log_entries_replayed));
}

}  // namespace zerodown::engine::shadow
