// How a command that changes the schema shows its progress on stderr: a live line on a terminal,
// one line per event otherwise, JSON events with --json; and, under `zerodown bench`, a
// `phase: NAME` mark on stdout as each step starts.
#pragma once

#include <memory>

#include "cli/command.hpp"
#include "zerodown/common/progress.hpp"

namespace zerodown::cli {

// The sink for `global` (--json or text); wrapped in the phase marks when load::kPhaseLinesEnv
// is "1".
std::unique_ptr<ProgressSink> MakeProgress(const GlobalOptions& global);

}  // namespace zerodown::cli
