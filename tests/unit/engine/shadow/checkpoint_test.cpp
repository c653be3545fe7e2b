// The shadow copy's stage as saved in its checkpoint: every stage under the name a killed run of
// any version resumes from, no stage as kNone, and a name this version does not know refused
// instead of taken for the first stage.
#include <gtest/gtest.h>

#include "engine/shadow/context.hpp"
#include "zerodown/common/error.hpp"

namespace zerodown::engine::shadow {
namespace {

const SaveCheckpoint kNoSave = [](pg::Connection&, const nlohmann::json&, std::int64_t,
                                  std::int64_t) {};

TEST(CheckpointStage, EveryStageIsSavedUnderItsNameAndReadBack) {
  const std::pair<Stage, const char*> stages[] = {
      {Stage::kPrepare, "prepare"}, {Stage::kCopy, "copy"},       {Stage::kIndex, "index"},
      {Stage::kCatchup, "catchup"}, {Stage::kSwapped, "swapped"}, {Stage::kDone, "done"}};
  for (const auto& [stage, name] : stages) {
    Checkpoint checkpoint(nlohmann::json::object(), kNoSave);
    checkpoint.SetStage(stage);
    EXPECT_EQ(checkpoint.json()["stage"], name);
    EXPECT_EQ(Checkpoint(checkpoint.json(), kNoSave).Stage(), stage) << name;
  }
}

TEST(CheckpointStage, NoSavedStageIsNone) {
  EXPECT_EQ(Checkpoint(nlohmann::json::object(), kNoSave).Stage(), Stage::kNone);
  EXPECT_EQ(Checkpoint(nullptr, kNoSave).Stage(), Stage::kNone);
}

TEST(CheckpointStage, AnUnknownStageIsRefused) {
  Checkpoint checkpoint(nlohmann::json{{"stage", "verify"}}, kNoSave);
  EXPECT_THROW(checkpoint.Stage(), Error);
}

}  // namespace
}  // namespace zerodown::engine::shadow
