// The index step of a shadow copy: the live table's indexes built on the new heap, once, over
// the full heap (faster than maintaining them row by row during the copy), each in its own
// transaction with the checkpoint; only the key's index may come before a copy in key order. Not
// CONCURRENTLY: nothing but the run reads or writes the new heap before the swap, so its SHARE lock
// stops nobody, and a plain build is one pass, not two.
#pragma once

#include <functional>
#include <string>
#include <string_view>

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
  // Before a copy that writes the new heap in key order (one session): the index over the key
  // alone, on the empty heap. The copy then only ever appends to it, which costs less than
  // building it after the copy (W1's table: 5.0-5.4 s copying with it against 3.8 s without
  // it and 1.9 s building it), and the index step that follows has that much less to do.
  // Where two sessions copy, the lower range's inserts would land inside the index, where
  // every page split halves a page (43 MB built after, 60 MB filled by two ranges), so the
  // index is left for after. Returns whether it built one.
  bool BuildKeyIndexFirst();

 private:
  // Builds `index` on the new heap under its temporary name, in the caller's transaction, and
  // records it in the checkpoint.
  void BuildIndex(pg::Connection& c, const IndexToBuild& index, const std::string& live_text);
  // Builds each index `which` selects and no earlier step built, with `note` after its
  // progress message; `stage`: each is an index stage of the copy for the progress sink (the
  // key's index built before the copy is not). Returns how many it built.
  int Build(const std::function<bool(const IndexToBuild&)>& which, std::string_view note,
            bool stage);

  Context& ctx_;
};

}  // namespace zerodown::engine::shadow
