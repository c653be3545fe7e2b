#include "engine/shadow/cut_over.hpp"

#include <fmt/format.h>

#include "engine/shadow/indexes.hpp"
#include "engine/shadow/sequences.hpp"
#include "zerodown/pg/catalog_sequences.hpp"
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
  PlanSwapReads(types_change, also_lock.front());
  Attempt attempt = Prepare(1, path, also_lock);
  Clock::time_point locked;
  try {
    pg::RunWithLockRetry(
        ctx_.conn, ctx_.options.lock, what,
        [&](pg::Connection& c) {
          // Retried like a lock not had in time: the log is caught up again first.
          if (attempt.put_off) {
            throw Error(ErrorKind::kLockTimeout, what)
                .WithSqlstate(std::string(pg::kLockNotAvailable));
          }
          locked = Hold(c, path, also_lock, attempt, types_change, body);
        },
        [&](int, std::chrono::milliseconds delay, const Error&) { SayRetry(what, attempt, delay); },
        [&](int next) {
          replayer_.CatchUp(path, ctx_.options.swap_when_log_below);
          attempt = Prepare(next, path, also_lock);
        });
  } catch (const Error& error) {
    if (attempt.put_off && error.kind() == ErrorKind::kLockTimeout) {
      throw LogTooLong(what, attempt.number);
    }
    throw;
  }
  double held_ms = SecondsSince(locked) * 1000;  // to the commit's end
  ctx_.checkpoint["swap_lock_ms"] = held_ms;
  SayHeld(done, held_ms, attempt.number);
  ctx_.progress.OnCopyStage(CopyStage::kSwapped, ctx_.spec.table);
}

void CutOver::PlanSwapReads(bool types_change, const std::string& other) {
  pg::Transaction tx(ctx_.conn);
  ReadDependents(ctx_.conn, ctx_, types_change);
  LiveIndexes(ctx_.conn, ctx_);
  pg::IdentitySequencePairs(ctx_.conn, ctx_.live, other);
  if (types_change) WidenSequences(ctx_.conn, ctx_.spec, ctx_.live);
}

CutOver::Attempt CutOver::Prepare(int number, const ReplayPath& path,
                                  const std::vector<std::string>& also_lock) {
  Attempt attempt;
  attempt.number = number;
  attempt.approach = ApproachSwap(ctx_, replayer_, path, also_lock);
  attempt.put_off = attempt.approach.left >= replayer_.LogTarget() &&
                    replayer_.CountLog(path, kMaxLogUnderLock) >= kMaxLogUnderLock;
  if (!attempt.put_off) {
    ctx_.checkpoint["swap_last_catchup_ms"] = SecondsSince(attempt.approach.last_catchup) * 1000;
    ctx_.checkpoint["swap_short_rounds"] = attempt.approach.short_rounds;
  }
  attempt.approached = Clock::now();
  return attempt;
}

void CutOver::SayRetry(const std::string& what, const Attempt& failed,
                       std::chrono::milliseconds delay) {
  if (!failed.put_off) {
    ctx_.progress.OnLockRetry(what, failed.number, delay);
    return;
  }
  ctx_.progress.OnMessage(fmt::format(
      "not trying to {} yet: {} or more logged changes are still left, which the lock "
      "would hold the table for while replaying them; catching up and trying again in {} ms",
      what, kMaxLogUnderLock, delay.count()));
}

Error CutOver::LogTooLong(const std::string& what, int attempts) const {
  return Error(ErrorKind::kLockTimeout,
               fmt::format("{}: after {} attempts the change log still held {} or more "
                           "entries right before the lock, which it would replay while "
                           "holding it; the application writes to {} about as fast as "
                           "the log is replayed",
                           what, attempts, kMaxLogUnderLock, ctx_.spec.table),
               "Run the command again at a quieter moment, or with more --replay-sessions: "
               "nothing is lost, and it resumes with the catch-up.");
}

Clock::time_point CutOver::Hold(
    pg::Connection& c, const ReplayPath& path, const std::vector<std::string>& also_lock,
    const Attempt& attempt, bool types_change,
    const std::function<void(pg::Connection&, const Dependent&)>& body) {
  const Approach& approach = attempt.approach;
  return ctx_.checkpoint.InAttempt([&] {
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
    Clock::time_point locked = Clock::now();
    ctx_.checkpoint["swap_log_before"] = approach.left;
    ctx_.checkpoint["swap_wait_ms"] =
        std::chrono::duration<double>(locked - attempt.approached).count() * 1000;
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
    ctx_.checkpoint["swap_attempts"] = attempt.number;
    ctx_.checkpoint["swap_lock_ms"] = SecondsSince(locked) * 1000;
    ctx_.Save();
    return locked;
  });
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
