// The steps of one switch from the serving side to the other, each with its undo, each recorded
// in the state as it completes so that a rerun after a kill knows what ran. SwitchRun sequences
// nothing itself: bluegreen::Switch decides the order, what to undo and when to finish.
#pragma once

#include <chrono>
#include <string>

#include "bluegreen/state.hpp"
#include "bluegreen/traffic.hpp"
#include "zerodown/bluegreen/bluegreen.hpp"

namespace zerodown::bluegreen {

class SwitchRun {
 public:
  // `state.switching` must be set (from, to, steps done so far); `traffic` moves the application
  // in that direction.
  SwitchRun(Pair& pair, PairState& state, const SwitchOptions& options, Traffic& traffic,
            const Progress& progress);

  // Runs `step` within the step timeout and records it; throws Error when it fails or times out
  // (a hook killed, the proxy refusing, a lock not had, green not caught up).
  void Do(Step step);
  // Undoes every recorded step before kMoved, newest first, then restores traffic on the side
  // that served (Traffic::Restore); records each undo. Keeps going past a failing undo and throws
  // the first error at the end.
  void Undo();
  // After kMoved: traffic resumed (unless done), the old direction's subscription and slots
  // dropped, the new sender's fingerprint recorded, the switch cleared.
  void Finish();

  double StepMs(Step step) const { return step_ms_[static_cast<std::size_t>(step)]; }
  // From the start of the pause to the end of the resume, as this run saw it.
  double PauseMs() const {
    return std::chrono::duration<double, std::milli>(resumed_at_ - paused_at_).count();
  }

 private:
  pg::Connection& From() { return pair_.Of(state_.switching->from); }
  pg::Connection& To() { return pair_.Of(state_.switching->to); }
  void Record(Step step, bool done);
  void WaitCaughtUp();
  void CopySequences();
  void DropOldPath();

  Pair& pair_;
  PairState& state_;
  const SwitchOptions& options_;
  Traffic& traffic_;
  const Progress& progress_;
  std::string token_;
  double step_ms_[static_cast<std::size_t>(Step::kResumed) + 1] = {};
  std::chrono::steady_clock::time_point paused_at_;
  std::chrono::steady_clock::time_point resumed_at_;
};

}  // namespace zerodown::bluegreen
