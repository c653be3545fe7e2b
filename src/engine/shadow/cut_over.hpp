// The swap's lock, either way: after the approach (approach.hpp), one transaction that holds
// ACCESS EXCLUSIVE on the table and what the swap touches, replays the last log entries, reads
// the dependents and runs the swap's body; retried with a backoff when the lock is not had in
// time. What the body renames and re-creates is the swapper's (swapper.hpp) or the swap back's
// (swap_back.hpp).
#pragma once

#include <chrono>
#include <functional>
#include <string>
#include <vector>

#include "engine/shadow/approach.hpp"
#include "engine/shadow/context.hpp"
#include "engine/shadow/dependents.hpp"
#include "engine/shadow/replayer.hpp"

namespace zerodown::engine::shadow {

class CutOver {
 public:
  CutOver(Context& ctx, Replayer& replayer) : ctx_(ctx), replayer_(replayer) {}

  // Replays `path` until its log is short, then runs `body` in one transaction that holds
  // ACCESS EXCLUSIVE on the live table, `also_lock` and the tables whose foreign keys point at
  // it, under lock_timeout, after the last log entries. When the lock is not had in time the
  // application's queries go first: the log is caught up again and the swap retried after a
  // backoff (pg::RunWithLockRetry). `body` gets the dependents read under the lock; it records its
  // stage itself. `what` names the step in errors, `done` in the report. Throws kLockTimeout after
  // the last attempt (nothing swapped; a rerun resumes with the catch-up).
  void Swap(const std::string& what, const std::string& done, const ReplayPath& path,
            const std::vector<std::string>& also_lock, bool types_change,
            const std::function<void(pg::Connection&, const Dependent&)>& body);

 private:
  // What an attempt at the lock starts from: the approach right before it, and whether that
  // left the log too long to replay under the lock (the attempt is then put off).
  struct Attempt {
    int number = 1;
    Approach approach;
    bool put_off = false;
    Clock::time_point approached;  // when the approach and its checks were done
  };

  // Runs the catalog reads a swap makes under its lock once before it, in a transaction rolled
  // back, so that under the lock they execute plans already made: planning them there took
  // about half of the lock's time (7 of 15 ms, idle). `other` is the heap that takes the
  // table's place.
  void PlanSwapReads(bool types_change, const std::string& other);
  // The approach before attempt `number`; records its timings unless it puts the attempt off.
  Attempt Prepare(int number, const ReplayPath& path, const std::vector<std::string>& also_lock);
  // Before the backoff of `delay` that follows a failed attempt: says why it failed.
  void SayRetry(const std::string& what, const Attempt& failed, std::chrono::milliseconds delay);
  // The error after the last attempt when even the approach left the log too long.
  Error LogTooLong(const std::string& what, int attempts) const;
  // The body of one attempt, in the transaction that takes the lock. Returns when it had the
  // lock; on any error the checkpoint is as it was before and the error is thrown.
  Clock::time_point Hold(pg::Connection& c, const ReplayPath& path,
                         const std::vector<std::string>& also_lock, const Attempt& attempt,
                         bool types_change,
                         const std::function<void(pg::Connection&, const Dependent&)>& body);
  void SayHeld(const std::string& done, double held_ms, int attempt);

  Context& ctx_;
  Replayer& replayer_;
};

}  // namespace zerodown::engine::shadow
