#include "zerodown/monitor/cutover.hpp"

#include <fmt/format.h>

#include <string>
#include <thread>

namespace zerodown::monitor {

std::chrono::duration<double> WaitForCutover(const std::function<bool()>& postponed,
                                             ProgressSink& progress,
                                             const CutoverWaitOptions& options) {
  if (!postponed()) return std::chrono::duration<double>(0);
  auto started = std::chrono::steady_clock::now();
  progress.OnMessage(std::string(kCutoverPostponedMessage));
  do {
    std::this_thread::sleep_for(options.poll_interval);
    if (options.while_waiting) options.while_waiting();
  } while (postponed());
  std::chrono::duration<double> waited = std::chrono::steady_clock::now() - started;
  progress.OnMessage(fmt::format("cut-over released by `zerodown cutover` after {:.1f} s; going on",
                                 waited.count()));
  return waited;
}

}  // namespace zerodown::monitor
