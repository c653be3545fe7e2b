#include "engine/shadow/run.hpp"

#include "engine/crash_point.hpp"
#include "engine/shadow/copier.hpp"
#include "engine/shadow/index_builder.hpp"
#include "engine/shadow/new_heap.hpp"
#include "engine/shadow/swap_back.hpp"
#include "engine/shadow/swapper.hpp"

namespace zerodown::engine {

namespace shadow {

ShadowCopyRun::ShadowCopyRun(pg::Connection& conn, const ShadowCopySpec& spec,
                             const ShadowCopyOptions& options, nlohmann::json checkpoint,
                             const SaveCheckpoint& save, ProgressSink& progress)
    : ctx_(conn, spec, options, std::move(checkpoint), save, progress),
      sessions_(ctx_),
      pruner_(ctx_),
      replayer_(ctx_, sessions_),
      cut_over_(ctx_, replayer_) {}

ShadowCopyReport ShadowCopyRun::Run() {
  Checkpoint& checkpoint = ctx_.checkpoint;
  if (checkpoint.Stage() == Stage::kNone) checkpoint.SetStage(Stage::kPrepare);
  ctx_.key = BuildKeySql(ctx_.conn, ctx_.live, ctx_.spec.key_columns);
  IndexBuilder indexes(ctx_);
  if (checkpoint.Stage() == Stage::kPrepare) {
    NewHeap(ctx_).Create();
    // Every application session loads and compiles the change log's trigger on its next write
    // to the table, all within a few of their transactions: the copy lets them have the CPU.
    ctx_.Settle("the change log's triggers went in");
  }
  if (checkpoint.Stage() == Stage::kCopy) Copier(ctx_, sessions_, pruner_).Copy();
  if (checkpoint.Stage() == Stage::kIndex) indexes.BuildIndexes();
  Swapper swapper(ctx_, replayer_, indexes, cut_over_);
  if (checkpoint.Stage() == Stage::kCatchup) {
    swapper.Swap();
    // The same after the swap, where they meet the new heap and its triggers, before the old
    // heap's drop.
    ctx_.Settle("the swap");
  }
  if (checkpoint.Stage() == Stage::kSwapped) {
    CrashPoint("swapped");
    swapper.Finish();
  }
  ShadowCopyReport& report = ctx_.report;
  report.rows_copied = checkpoint.value("rows_done", std::int64_t{0});
  report.swap_lock_ms = checkpoint.value("swap_lock_ms", 0.0);
  report.swap_attempts = checkpoint.value("swap_attempts", 0);
  return report;
}

void ShadowCopyRun::CheckSwapBack() { shadow::SwapBack(ctx_, replayer_, cut_over_).Check(); }

void ShadowCopyRun::SwapBack(const nlohmann::json& forward) {
  shadow::SwapBack(ctx_, replayer_, cut_over_).Run(forward);
}

}  // namespace shadow

ShadowCopyReport RunShadowCopy(pg::Connection& conn, const ShadowCopySpec& spec,
                               const ShadowCopyOptions& options, const nlohmann::json& checkpoint,
                               const SaveCheckpoint& save, ProgressSink& progress) {
  return shadow::ShadowCopyRun(conn, spec, options, checkpoint, save, progress).Run();
}

void CheckShadowSwapBack(pg::Connection& conn, const ShadowCopySpec& spec) {
  ShadowCopyOptions options;
  SilentProgress silent;
  SaveCheckpoint save = [](pg::Connection&, const nlohmann::json&, std::int64_t, std::int64_t) {};
  shadow::ShadowCopyRun(conn, spec, options, nlohmann::json(), save, silent).CheckSwapBack();
}

void RunShadowSwapBack(pg::Connection& conn, const ShadowCopySpec& spec,
                       const ShadowCopyOptions& options, const nlohmann::json& forward,
                       const nlohmann::json& checkpoint, const SaveCheckpoint& save,
                       ProgressSink& progress) {
  shadow::ShadowCopyRun(conn, spec, options, checkpoint, save, progress).SwapBack(forward);
}

}  // namespace zerodown::engine
