// The swap of a shadow copy: the last catch-up, the indexes that waited for it, the check
// before the swap, then under the cut-over's lock the renames that give the new heap the
// table's name, indexes and dependents (and, when the old heap is kept, the reverse log); after
// it, the foreign keys validated and the old heap dropped. The lock itself is the cut-over's.
#pragma once

#include <vector>

#include "engine/shadow/context.hpp"
#include "engine/shadow/cut_over.hpp"
#include "engine/shadow/dependents.hpp"
#include "engine/shadow/index_builder.hpp"
#include "engine/shadow/indexes.hpp"
#include "engine/shadow/replayer.hpp"

namespace zerodown::engine::shadow {

class Swapper {
 public:
  Swapper(Context& ctx, Replayer& replayer, IndexBuilder& indexes, CutOver& cut_over)
      : ctx_(ctx), replayer_(replayer), indexes_(indexes), cut_over_(cut_over) {}

  // Stage "catchup" to "swapped": gives the new heap the table's name, indexes, dependents and
  // (when it keeps the old heap) the reverse log, in one short transaction. Throws as
  // CutOver::Swap and CheckBeforeSwap.
  void Swap();

  // Stage "swapped" to "done": validates the foreign keys, then drops the old heap and the log,
  // or only the log when the old heap is kept until complete. A failure to drop is reported,
  // not thrown: the swap is done and the new heap serves.
  void Finish();

 private:
  // Replays the log until it is short, builds the indexes that waited for a replay of the
  // whole log, checks the copy, and waits while the cut-over is postponed.
  void CatchUpBeforeSwap();
  // The swap's body, under the lock.
  void SwapIn(pg::Connection& c, const Dependent& dependents, bool types_change);
  // The old heap stays for a rollback: without triggers or foreign keys of its own (the new heap
  // has them; a swap back re-creates them), frozen, while a reverse log on the new heap records
  // every key written from now on.
  void KeepOldHeap(pg::Connection& c, const Dependent& dependents,
                   const std::vector<IndexToBuild>& indexes);

  Context& ctx_;
  Replayer& replayer_;
  IndexBuilder& indexes_;
  CutOver& cut_over_;
};

}  // namespace zerodown::engine::shadow
