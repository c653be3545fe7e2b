// The user's traffic hooks (pause, move, resume): shell commands run through the bench's child
// process spawner with the direction in the environment, each killed when it passes its
// deadline.
#pragma once

#include <chrono>
#include <string>

#include "zerodown/bluegreen/bluegreen.hpp"

namespace zerodown::bluegreen {

// Runs `command` with /bin/sh -c (its stdout sent to our stderr, so --json output stays clean)
// and ZERODOWN_BLUEGREEN_FROM/_TO/_HOOK set. Ok when it exits 0 before `timeout`; an Error
// naming the hook otherwise. "" is Ok at once.
Status RunHook(std::string_view hook, const std::string& command, Side from, Side to,
               std::chrono::milliseconds timeout);

}  // namespace zerodown::bluegreen
