// bluegreen::Finish: every replication object of the pair dropped on both sides, in an order
// that works after any failure and when run again.
#include <fmt/format.h>

#include "bluegreen/fence.hpp"
#include "bluegreen/replication.hpp"
#include "bluegreen/state.hpp"

namespace zerodown::bluegreen {
namespace {

constexpr std::chrono::milliseconds kSlotWait{10000};

// Replication out of `sender`: the receiver's subscription first (so that nothing takes the slot
// again), then the slot and any initial-copy slots left on the sender.
void DropPath(Pair& pair, Side sender, const Progress& progress) {
  std::string path = PathName(pair, sender);
  auto prefix = DropSubscription(pair.Of(Other(sender)), path);
  if (prefix) progress(fmt::format("dropped subscription {} on {}", path, SideName(Other(sender))));
  std::vector<std::string> slots = {path};
  if (prefix) {
    for (const auto& s : SlotsLike(pair.Of(sender), *prefix)) slots.push_back(s);
  }
  for (const auto& slot : slots) DropSlot(pair.Of(sender), slot, kSlotWait);
}

}  // namespace

Status Finish(Pair& pair, bool abort, const Progress& progress) {
  auto state = LoadState(pair);
  if (state && state->switching) {
    return Error(ErrorKind::kConflict, "a switch was interrupted and is still recorded",
                 "Run `zerodown bluegreen switch` to finish or undo it first.");
  }
  Side serving = state ? state->serving : Side::kBlue;
  if (abort && serving == Side::kGreen) {
    return Error(ErrorKind::kConflict, "green serves: abort would leave blue fenced and behind",
                 "Run `zerodown bluegreen switch --back` first, or `finish` to keep green.");
  }
  DropPath(pair, Side::kBlue, progress);
  DropPath(pair, Side::kGreen, progress);
  for (Side side : {Side::kBlue, Side::kGreen}) {
    DropPublication(pair.Of(side));
    // finish keeps the fence of the side that no longer serves: an application still pointed
    // there gets an error instead of writing rows nobody reads.
    bool keep_fence = !abort && side != serving;
    DropState(pair.Of(side), keep_fence);
  }
  progress(abort ? "aborted: no replication left; blue serves and green keeps its copy"
                 : fmt::format("finished: no replication left; {} serves, {} stays fenced",
                               SideName(serving), SideName(Other(serving))));
  return Status::Ok();
}

}  // namespace zerodown::bluegreen
