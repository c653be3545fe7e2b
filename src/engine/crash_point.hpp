// Named points where the crash-safety tests kill zerodown as `kill -9` would (SIGKILL: no
// destructor runs, the server sees the connections drop mid-transaction), at a step boundary
// chosen by name rather than by racing a timer against a step that may last milliseconds. Armed
// only by ZERODOWN_CRASH_AT=<name> in the environment, which nothing but the tests sets.
#pragma once

#include <csignal>
#include <cstdlib>
#include <string_view>

namespace zerodown::engine {

inline void CrashPoint(std::string_view name) {
  static const char* const armed = std::getenv("ZERODOWN_CRASH_AT");
  if (armed != nullptr && name == armed) std::raise(SIGKILL);
}

}  // namespace zerodown::engine
