// What every unit of a shadow copy shares: the run's connection, spec and options, where it
// reports, its checkpoint, the quoted names derived from the spec, the table's key and what the
// run has measured so far. No step of the copy lives here; each unit (change log, copier,
// replayer, cut-over, …) takes this context and the units it works with in its constructor.
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <nlohmann/json.hpp>
#include <string>
#include <string_view>
#include <utility>

#include "engine/key_sql.hpp"
#include "zerodown/common/progress.hpp"
#include "zerodown/engine/shadow_copy.hpp"
#include "zerodown/pg/connection.hpp"

namespace zerodown::engine::shadow {

using Clock = std::chrono::steady_clock;

double SecondsSince(Clock::time_point since);

// Where a run stands, saved in its checkpoint under "stage" by name (the names are what a
// killed run of any version resumes from, and what `status` shows). A copy goes kPrepare,
// kCopy, kIndex, kCatchup, kSwapped, kDone; a swap back kNone (nothing saved yet), kSwapped,
// kDone.
enum class Stage { kNone, kPrepare, kCopy, kIndex, kCatchup, kSwapped, kDone };

std::string_view StageName(Stage stage);
// Writes `stage` into a checkpoint's JSON (a copy session's next state, or the run's own).
void SetStage(nlohmann::json& checkpoint, Stage stage);

// The run's checkpoint: JSON saved with each step's work, in that step's transaction, so a kill
// leaves the two consistent.
class Checkpoint {
 public:
  // `initial` as saved by an earlier run (anything but an object: a fresh start).
  Checkpoint(nlohmann::json initial, const SaveCheckpoint& save);

  nlohmann::json& json() { return json_; }
  const nlohmann::json& json() const { return json_; }
  nlohmann::json& operator[](const std::string& key) { return json_[key]; }
  template <typename T>
  T value(const std::string& key, T fallback) const {
    return json_.value(key, std::move(fallback));
  }
  bool contains(const std::string& key) const { return json_.contains(key); }
  void erase(const std::string& key) { json_.erase(key); }

  // kNone when no stage was saved; throws kInternal on a name this version does not know.
  shadow::Stage Stage() const;
  void SetStage(shadow::Stage stage) { shadow::SetStage(json_, stage); }

  // Saves `checkpoint` (the next state of this one, made by a copy session) in the transaction
  // open on `c`, with its rows done and total (at least `total`).
  void SaveAs(pg::Connection& c, const nlohmann::json& checkpoint, std::int64_t total) const;
  void Save(pg::Connection& c, std::int64_t total = 0) const { SaveAs(c, json_, total); }

  // Runs `body`, which changes this checkpoint inside an attempt's transaction: when it throws,
  // the transaction rolls back, and so does the checkpoint.
  template <typename Body>
  auto InAttempt(Body&& body) -> decltype(body()) {
    nlohmann::json before = json_;
    try {
      return body();
    } catch (...) {
      json_ = std::move(before);
      throw;
    }
  }

 private:
  nlohmann::json json_;
  const SaveCheckpoint& save_;
};

struct Context {
  Context(pg::Connection& conn, const ShadowCopySpec& spec, const ShadowCopyOptions& options,
          nlohmann::json checkpoint, const SaveCheckpoint& save, ProgressSink& progress);

  // Saves the checkpoint in the transaction open on the run's own connection.
  void Save(std::int64_t total = 0) { checkpoint.Save(conn, total); }
  // Runs `body` in a transaction on the run's connection under the lock retry policy, reporting
  // each retry.
  void Retry(std::string_view what, const std::function<void(pg::Connection&)>& body);
  // The chunk time now (--chunk-time, or what the throttle makes of it).
  std::chrono::milliseconds ChunkTime() const;
  // After a step every application session pays for on its next statement (the change log's
  // triggers put on the table, a heap swapped in): BackfillOptions::settle, when the caller gave
  // one, so that the next step waits for those sessions.
  void Settle(const std::string& after) const;

  pg::Connection& conn;
  const ShadowCopySpec& spec;
  const ShadowCopyOptions& options;
  ProgressSink& progress;
  Checkpoint checkpoint;
  // Quoted, qualified: the live table, the new heap, the old heap after the swap, the change
  // log and its function, the reverse log.
  std::string live;
  std::string shadow;
  std::string retired;
  std::string log;
  std::string log_function;
  std::string reverse_log;
  KeySql key;               // the live table's key, built before the first step runs
  ShadowCopyReport report;  // what the run measured so far
};

}  // namespace zerodown::engine::shadow
