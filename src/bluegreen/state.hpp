// The pair's state in the `zerodown` schema of both databases: which side serves, the published
// tables, the serving side's schema fingerprint, and a switch's progress step by step (so a
// killed switch is finished or undone by the next run). Also the heartbeat table and the fence
// function that both sides carry. Blue's copy is the one read; both are written.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "bluegreen/catalog.hpp"
#include "zerodown/bluegreen/bluegreen.hpp"

namespace zerodown::bluegreen {

// A switch's steps in the order they run; the state records the ones done.
enum class Step {
  kReversePrepared,  // before the pause: the reverse subscription, disabled (it connects to T)
  kPaused,
  kFenced,
  kCaughtUp,
  kSequences,
  kSlot,
  kForwardDisabled,
  kReverseCreated,
  kTargetUnfenced,
  kMoved,  // traffic is on the target: from here on a rerun finishes instead of undoing
  kResumed,
};
std::string_view StepName(Step step);

struct SwitchProgress {
  Side from = Side::kBlue;
  Side to = Side::kGreen;
  std::vector<Step> done;
  bool target_was_fenced = false;
  bool Did(Step step) const;
};

struct PairState {
  Side serving = Side::kBlue;
  std::vector<TableRef> tables;
  std::string fingerprint;  // the serving side's, from when replication out of it began
  std::optional<SwitchProgress> switching;
  std::optional<GreenMigration> migration;  // the newest one `bluegreen start` ran on green
};

// Creates the zerodown schema, the state and heartbeat tables and the fence function on `conn`
// (idempotent). The heartbeat row is inserted only where `seed_heartbeat`: the receiving side
// gets it through the initial copy.
void InstallState(pg::Connection& conn, bool seed_heartbeat);
// Writes `state` on both sides.
void SaveState(Pair& pair, const PairState& state);
// Blue's state (green's when blue has none), or nullopt when no pair exists.
std::optional<PairState> LoadState(Pair& pair);
// One database's copy of the state and which side of the pair it is; nullopt when it is in none.
struct LocalState {
  Side side = Side::kBlue;
  PairState pair;
};
std::optional<LocalState> LoadLocal(pg::Connection& conn);
// Drops the state and heartbeat tables; the fence function too unless `keep_fence`.
void DropState(pg::Connection& conn, bool keep_fence);

inline constexpr std::string_view kHeartbeatSchema = "zerodown";
inline constexpr std::string_view kHeartbeatTable = "bluegreen_heartbeat";

}  // namespace zerodown::bluegreen
