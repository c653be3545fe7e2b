// The index step of a shadow copy: the live table's indexes built on the new heap, once, over
// the full heap (faster than maintaining them row by row during the copy), each in its own
// transaction with the checkpoint. Not CONCURRENTLY: nothing but the run reads or writes the new
// heap before the swap, so its SHARE lock stops nobody, and a plain build is one pass, not two.
#pragma once

#include <string>

#include "engine/shadow/context.hpp"
#include "engine/shadow/indexes.hpp"

namespace zerodown::engine::shadow {

class IndexBuilder {
 public:
  explicit IndexBuilder(Context& ctx) : ctx_(ctx) {}

  // Stage "index" to "catchup": every index two keys cannot collide in, then ANALYZE of the new
  // heap. The others wait for a replay of the whole log (HasUniqueBeyondKey): the swapper builds
  // them with BuildMissing(true). Sets the report's index_seconds.
  void BuildIndexes();

  // Builds the live table's indexes not built yet whose beyond_key is `beyond_key` on the new
  // heap, one transaction each. Returns how many it built.
  int BuildMissing(bool beyond_key);

 private:
  // Builds `index` on the new heap under its temporary name, in the caller's transaction, and
  // records it in the checkpoint.
  void BuildIndex(pg::Connection& c, const IndexToBuild& index, const std::string& live_text);

  Context& ctx_;
};

}  // namespace zerodown::engine::shadow
