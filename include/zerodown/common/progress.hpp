// How long-running work reports what it is doing: the phases of a migration's plan, the actions
// it runs, a backfill's rows, lock retries, the stages inside a shadow copy, and messages for a
// person. The engine reports; the CLI renders the events as a progress line, plain lines or JSON
// events, the monitor turns them into metrics, `demo` and `bench` into marks on a timeline. No
// rendering lives here.
#pragma once

#include <chrono>
#include <cstdint>
#include <string>
#include <string_view>

namespace zerodown {

// The three phases of a migration's plan.
enum class PlanPhase { kStart, kComplete, kRollback };

// "start", "complete", "rollback": as the state schema's steps and the CLI's output name them.
constexpr std::string_view PlanPhaseName(PlanPhase phase) {
  switch (phase) {
    case PlanPhase::kStart:
      return "start";
    case PlanPhase::kComplete:
      return "complete";
    case PlanPhase::kRollback:
      return "rollback";
  }
  return "start";
}

// What an action does, where a timeline marks it apart from the others.
enum class ActionRole {
  kOther,
  kVersionViews,  // creates a version schema's views
  kBackfill,      // fills new columns in place, batch by batch
};

// An action of a plan as it begins.
struct ActionEvent {
  PlanPhase phase = PlanPhase::kStart;
  int index = 0;  // from 1
  int total = 0;
  std::string description;
  ActionRole role = ActionRole::kOther;
  bool skipped = false;  // an earlier run did it
};

struct BackfillProgress {
  std::string table;
  std::int64_t rows_done = 0;
  std::int64_t rows_total = 0;  // an estimate (pg_class.reltuples) until the pass ends
  double rows_per_second = 0;
  double eta_seconds = 0;
  int batch_size = 0;
  double last_chunk_ms = 0;
};

// A stage inside a shadow copy (one action), as it begins.
enum class CopyStage {
  kIndexBuild,  // an index of the new heap is built
  kCatchUp,     // the change log is caught up before the swap
  kSwapped,     // the swap (or the swap back) is done
};

class ProgressSink {
 public:
  virtual ~ProgressSink() = default;
  virtual void OnAction(const ActionEvent& action) = 0;
  virtual void OnBackfill(const BackfillProgress& progress) = 0;
  // A DDL could not get its lock in time and will retry after `delay`.
  virtual void OnLockRetry(const std::string& description, int attempt,
                           std::chrono::milliseconds delay) = 0;
  // `table` (as the spec names it) reached `stage`; a message for a person follows or precedes.
  virtual void OnCopyStage(CopyStage stage, const std::string& table) = 0;
  virtual void OnMessage(const std::string& message) = 0;
};

// Discards everything; the default sink.
class SilentProgress : public ProgressSink {
 public:
  void OnAction(const ActionEvent&) override {}
  void OnBackfill(const BackfillProgress&) override {}
  void OnLockRetry(const std::string&, int, std::chrono::milliseconds) override {}
  void OnCopyStage(CopyStage, const std::string&) override {}
  void OnMessage(const std::string&) override {}
};

}  // namespace zerodown
