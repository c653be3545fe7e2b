// The stage machine of a shadow copy: runs or resumes the units in stage order (new heap,
// copy, index, catch-up and swap, finish) and returns what they measured. It only sequences;
// each step lives in its own unit. The public entry points (RunShadowCopy, RunShadowSwapBack,
// CheckShadowSwapBack in zerodown/engine/shadow_copy.hpp) are defined with it.
#pragma once

#include <nlohmann/json.hpp>

#include "engine/shadow/change_log.hpp"
#include "engine/shadow/context.hpp"
#include "engine/shadow/cut_over.hpp"
#include "engine/shadow/replayer.hpp"
#include "engine/shadow/sessions.hpp"

namespace zerodown::engine::shadow {

class ShadowCopyRun {
 public:
  ShadowCopyRun(pg::Connection& conn, const ShadowCopySpec& spec, const ShadowCopyOptions& options,
                nlohmann::json checkpoint, const SaveCheckpoint& save, ProgressSink& progress);

  // RunShadowCopy.
  ShadowCopyReport Run();
  // CheckShadowSwapBack.
  void CheckSwapBack();
  // RunShadowSwapBack.
  void SwapBack(const nlohmann::json& forward);

 private:
  // Declared in the order they are made: each takes those above it.
  Context ctx_;
  HelperSessions sessions_;
  LogPruner pruner_;
  Replayer replayer_;
  CutOver cut_over_;
};

}  // namespace zerodown::engine::shadow
