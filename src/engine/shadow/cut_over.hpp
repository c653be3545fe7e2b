// The swap's lock, either way: after the approach (approach.hpp), one transaction that holds
// ACCESS EXCLUSIVE on the table and what the swap touches, replays the last log entries, reads
// the dependents and runs the swap's body; retried with a backoff when the lock is not had in
// time. What the body renames and re-creates is the swapper's (swapper.hpp) or the swap back's
// (swap_back.hpp).
#pragma once

#include <functional>
#include <random>
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
  // backoff. `body` gets the dependents read under the lock; it records its stage itself.
  // `what` names the step in errors, `done` in the report. Throws kLockTimeout after the last
  // attempt (nothing swapped; a rerun resumes with the catch-up).
  void Swap(const std::string& what, const std::string& done, const ReplayPath& path,
            const std::vector<std::string>& also_lock, bool types_change,
            const std::function<void(pg::Connection&, const Dependent&)>& body);

 private:
  // Runs the catalog reads a swap makes under its lock once before it, in a transaction rolled
  // back, so that under the lock they execute plans already made: planning them there took
  // about half of the lock's time (7 of 15 ms, idle). `other` is the heap that takes the
  // table's place.
  void PlanSwapReads(bool types_change, const std::string& other);
  // After an approach that left kMaxLogUnderLock entries or more: not this attempt. Throws at
  // the last one; otherwise waits and catches up.
  void PutOff(const std::string& what, int attempt, const ReplayPath& path, std::mt19937_64& rng);
  // One attempt at the lock. Returns how long it held it, in ms; on any error the checkpoint is
  // as it was before and the error is thrown (kLockTimeout: the lock was not had in time).
  double Hold(const std::string& what, const ReplayPath& path,
              const std::vector<std::string>& also_lock, const Approach& approach,
              bool types_change, int attempt,
              const std::function<void(pg::Connection&, const Dependent&)>& body);
  void SayHeld(const std::string& done, double held_ms, int attempt);

  Context& ctx_;
  Replayer& replayer_;
};

}  // namespace zerodown::engine::shadow
