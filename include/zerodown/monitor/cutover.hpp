// Holding a cut-over back while the operator has postponed it. `zerodown postpone-cutover` sets
// the cutover-postponed row of zerodown.control (control.hpp) and `zerodown cutover` deletes it; a
// migration about to cut over (swap a shadow copy in, or `complete` an expand/contract migration)
// waits here until the row is gone. This module only waits and reports; it reads the flag through
// a function its caller gives it and never touches the migration.
#pragma once

#include <chrono>
#include <functional>
#include <string_view>

#include "zerodown/common/progress.hpp"

namespace zerodown::monitor {

inline constexpr std::string_view kCutoverPostponedMessage =
    "cut-over postponed by `zerodown postpone-cutover`; run `zerodown cutover` to let it proceed";

struct CutoverWaitOptions {
  // How often a postponed cut-over looks at the flag again; also the longest it lags behind
  // `zerodown cutover` (plus one read of the flag).
  std::chrono::milliseconds poll_interval{500};
  // Called on every poll while waiting; an exception thrown here (an automatic rollback, say)
  // leaves the wait and reaches the caller.
  std::function<void()> while_waiting;
};

// Returns at once, saying nothing, when `postponed()` is false. Otherwise reports
// kCutoverPostponedMessage once through `progress`, asks `postponed()` again every
// poll_interval until it answers false, reports that the cut-over goes on, and returns how long
// it waited. Exceptions of `postponed` and `while_waiting` propagate.
std::chrono::duration<double> WaitForCutover(const std::function<bool()>& postponed,
                                             ProgressSink& progress,
                                             const CutoverWaitOptions& options = {});

}  // namespace zerodown::monitor
