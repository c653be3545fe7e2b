// The swap back of a copy that kept the old heap (a key's type changed): the reverse log
// replayed into the old heap, then under the cut-over's lock the old heap given its name,
// indexes, views, triggers, foreign keys and grants back, and the new heap renamed for the
// rollback to drop. Also the read-only check that the rows written since the swap fit the old
// heap's types.
#pragma once

#include <string>

#include "engine/shadow/context.hpp"
#include "engine/shadow/cut_over.hpp"
#include "engine/shadow/dependents.hpp"
#include "engine/shadow/replayer.hpp"

namespace zerodown::engine::shadow {

class SwapBack {
 public:
  SwapBack(Context& ctx, Replayer& replayer, CutOver& cut_over)
      : ctx_(ctx), replayer_(replayer), cut_over_(cut_over) {}

  // CheckShadowSwapBack: see shadow_copy.hpp.
  void Check();
  // RunShadowSwapBack: see shadow_copy.hpp. `forward` is the copy's own checkpoint.
  void Run(const nlohmann::json& forward);

 private:
  // A data exception while copying back (SQLSTATE class 22): a row written since the swap does
  // not fit the old heap's types, such as a key beyond 2^31 - 1 for an integer.
  Error DoesNotFit(const Error& cause, std::string fix) const;
  // The swap back's body, under the lock: the index names back, the tables renamed, identity
  // sequences carried over, the dependents re-created on the old heap.
  void UnderLock(pg::Connection& c, const Dependent& dependents, const nlohmann::json& forward);

  Context& ctx_;
  Replayer& replayer_;
  CutOver& cut_over_;
};

}  // namespace zerodown::engine::shadow
