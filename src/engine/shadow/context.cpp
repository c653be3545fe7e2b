#include "engine/shadow/context.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <array>
#include <utility>

#include "zerodown/pg/lock_retry.hpp"

namespace zerodown::engine::shadow {

double SecondsSince(Clock::time_point since) {
  return std::chrono::duration<double>(Clock::now() - since).count();
}

namespace {

constexpr std::array<std::pair<Stage, std::string_view>, 6> kStageNames = {{
    {Stage::kPrepare, "prepare"},
    {Stage::kCopy, "copy"},
    {Stage::kIndex, "index"},
    {Stage::kCatchup, "catchup"},
    {Stage::kSwapped, "swapped"},
    {Stage::kDone, "done"},
}};

}  // namespace

std::string_view StageName(Stage stage) {
  for (const auto& [value, name] : kStageNames) {
    if (value == stage) return name;
  }
  return "none";
}

void SetStage(nlohmann::json& checkpoint, Stage stage) {
  checkpoint["stage"] = std::string(StageName(stage));
}

shadow::Stage Checkpoint::Stage() const {
  if (!json_.contains("stage")) return shadow::Stage::kNone;
  std::string saved = json_.value("stage", std::string());
  for (const auto& [value, name] : kStageNames) {
    if (name == saved) return value;
  }
  throw Error(ErrorKind::kInternal,
              fmt::format("the shadow copy's checkpoint names an unknown stage \"{}\"", saved),
              "It was saved by another version of zerodown: run this step with that version.");
}

Checkpoint::Checkpoint(nlohmann::json initial, const SaveCheckpoint& save)
    : json_(initial.is_object() ? std::move(initial) : nlohmann::json::object()), save_(save) {}

void Checkpoint::SaveAs(pg::Connection& c, const nlohmann::json& checkpoint,
                        std::int64_t total) const {
  save_(c, checkpoint, checkpoint.value("rows_done", std::int64_t{0}),
        std::max(total, checkpoint.value("rows_total", std::int64_t{0})));
}

Context::Context(pg::Connection& conn, const ShadowCopySpec& spec, const ShadowCopyOptions& options,
                 nlohmann::json checkpoint, const SaveCheckpoint& save, ProgressSink& progress)
    : conn(conn),
      spec(spec),
      options(options),
      progress(progress),
      checkpoint(std::move(checkpoint), save),
      live(conn.Ident(spec.schema, spec.table)),
      shadow(conn.Ident(spec.schema, spec.shadow)),
      retired(conn.Ident(spec.schema, spec.retired)),
      log(conn.Ident("zerodown", spec.log_table)),
      log_function(conn.Ident("zerodown", spec.log_function)),
      reverse_log(conn.Ident("zerodown", spec.reverse_log_table)) {}

void Context::Retry(std::string_view what, const std::function<void(pg::Connection&)>& body) {
  pg::RunWithLockRetry(conn, options.lock, what, body,
                       [&](int attempt, std::chrono::milliseconds delay, const Error&) {
                         progress.OnLockRetry(std::string(what), attempt, delay);
                       });
}

std::chrono::milliseconds Context::ChunkTime() const {
  return options.chunks.chunk_time_source ? options.chunks.chunk_time_source()
                                          : options.chunks.chunk_time;
}

void Context::Settle(const std::string& after) const {
  if (options.chunks.settle) options.chunks.settle(after);
}

}  // namespace zerodown::engine::shadow
