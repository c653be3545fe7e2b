// The expand/contract engine: start, complete and rollback of a migration on one schema, each
// resumable after a kill and serialised by an advisory lock. It plans through planner.hpp, runs
// the plan's actions with the lock-timeout retry, and records every finished action in the
// zerodown state schema.
#pragma once

#include <functional>
#include <optional>
#include <string>

#include "zerodown/common/progress.hpp"
#include "zerodown/engine/backfill.hpp"
#include "zerodown/engine/plan.hpp"
#include "zerodown/engine/planner.hpp"
#include "zerodown/engine/shadow_copy.hpp"
#include "zerodown/engine/state.hpp"
#include "zerodown/model/operations.hpp"
#include "zerodown/pg/connection.hpp"
#include "zerodown/pg/lock_retry.hpp"

namespace zerodown::engine {

struct EngineOptions {
  std::string schema = "public";
  pg::LockRetryPolicy lock;
  BackfillOptions backfill;
  bool wait_for_other_run = true;  // false: refuse at once when another zerodown holds the schema
  Mechanism mechanism = Mechanism::kAuto;
  // What a shadow copy compares with the table before its swap.
  CopyCheckMode check_before_swap = CopyCheckMode::kSample;
  int replay_sessions = 2;                  // see ShadowCopyOptions
  int catch_up_sessions = 0;                // see ShadowCopyOptions
  int copy_sessions = 2;                    // see ShadowCopyOptions
  bool parallel_index_builds = true;        // see ShadowCopyOptions
  std::int64_t swap_when_log_below = 1000;  // see ShadowCopyOptions
  std::int64_t swap_log_target = 100;       // see ShadowCopyOptions
  // Called right before a cut-over (the swap of a shadow copy): blocks while the operator has
  // postponed it (`zerodown postpone-cutover`). Unset: no wait.
  std::function<void()> before_cutover;
};

// What `status` shows.
struct MigrationStatus {
  bool initialized = false;
  std::optional<MigrationRecord> active;
  std::optional<MigrationRecord> latest_complete;
  std::vector<StepRecord> steps;
  std::string search_path;  // for the newest usable version
};

class Engine {
 public:
  Engine(pg::Connection& conn, EngineOptions options, ProgressSink& progress);

  // The plan `start` would run for `migration`, after every check. Changes nothing.
  Plan PlanOnly(const model::Migration& migration);
  // Expand: validates, records and runs the start actions. Resumes a killed start of the same
  // migration. On a failure that retrying cannot fix, rolls back what it did and throws
  // kMigrationFailed with the cause; when the rows make the migration impossible (a value `up`
  // cannot convert, a NULL, a check or unique constraint the rows break), kInvalidMigration
  // naming the row, found before the first change where a read-only statement can.
  MigrationRecord Start(const model::Migration& migration);
  // Contract: runs the active migration's complete actions. Resumes a killed complete.
  MigrationRecord Complete();
  // Back to the old schema, before complete; resumes a killed rollback.
  MigrationRecord Rollback();
  MigrationStatus Status();

 private:
  // Start's parts: the interrupted start of `migration` to resume (kConflict when `active` is
  // another migration or past its start), or a new one planned and recorded; and, after a
  // start that failed, the rollback of what it did and the error to throw.
  MigrationRecord Resumed(const MigrationRecord& active, const model::Migration& migration);
  MigrationRecord Recorded(const model::Migration& migration);
  Error RolledBackStart(const MigrationRecord& record, const Error& error);
  // Runs the actions of `phase` an earlier run has not done, each marked done when it is.
  void RunPhase(const MigrationRecord& record, PlanPhase phase, const std::vector<Action>& actions);
  void RunAction(const MigrationRecord& record, PlanPhase phase, const Action& action);
  void RunBackfillAction(const MigrationRecord& record, PlanPhase phase, const Action& action);
  void RunShadowAction(const MigrationRecord& record, PlanPhase phase, const Action& action);
  ShadowCopyOptions ShadowOptions() const;

  pg::Connection& conn_;
  EngineOptions options_;
  ProgressSink& progress_;
  State state_;
  bool start_changed_ = false;  // whether start reached an action that changes the database
};

}  // namespace zerodown::engine
