// The first step of a shadow copy: the change log, its triggers on the live table and the empty
// new heap, made in one transaction. Does not fill the new heap (copier.hpp) or index it
// (index_builder.hpp).
#pragma once

#include "engine/shadow/context.hpp"

namespace zerodown::engine::shadow {

class NewHeap {
 public:
  explicit NewHeap(Context& ctx) : ctx_(ctx) {}

  // Stage "prepare" to "copy". Every write committed after its transaction is logged, and the
  // copy starts after it. Takes SHARE ROW EXCLUSIVE on the live table for the triggers, under
  // the lock retry policy.
  void Create();

 private:
  // One attempt at Create's transaction on `c`.
  void CreateIn(pg::Connection& c);
  // LIKE … INCLUDING IDENTITY gives the new heap an identity sequence of its own with the live
  // one's options, but as bigint whatever the column. Made the column's type, and where the
  // live sequence ends where its type ends, ending where the new type ends: an integer key made
  // bigint must count past 2^31 - 1.
  void AlignIdentitySequences(pg::Connection& c);

  Context& ctx_;
};

}  // namespace zerodown::engine::shadow
