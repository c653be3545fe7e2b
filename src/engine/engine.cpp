#include "zerodown/engine/engine.hpp"

#include <fmt/format.h>

#include "engine/data_failure.hpp"
#include "engine/data_probe.hpp"
#include "zerodown/engine/planner.hpp"
#include "zerodown/engine/shadow_copy.hpp"
#include "zerodown/model/migration_reader.hpp"
#include "zerodown/pg/advisory_lock.hpp"

namespace zerodown::engine {

namespace {

Error NoActiveMigration(const std::string& schema, std::string_view command) {
  return Error(
      ErrorKind::kConflict,
      fmt::format("there is no migration in progress on schema \"{}\" to {}", schema, command),
      "Start one with `zerodown start FILE`; `zerodown status` shows the history.");
}

// What a timeline marks an action as: the version schema's views (the planner's "views"
// action) and a backfill stand apart.
ActionRole RoleOf(const Action& action) {
  if (action.kind == ActionKind::kBackfill) return ActionRole::kBackfill;
  if (action.id == "views") return ActionRole::kVersionViews;
  return ActionRole::kOther;
}

}  // namespace

Engine::Engine(pg::Connection& conn, EngineOptions options, ProgressSink& progress)
    : conn_(conn), options_(std::move(options)), progress_(progress), state_(conn) {
  pg::UseReadCommitted(conn_);
}

Plan Engine::PlanOnly(const model::Migration& migration) {
  PlanOptions plan_options{options_.schema, std::nullopt, options_.mechanism};
  if (state_.Initialized()) {
    if (auto latest = state_.LatestComplete(options_.schema)) {
      plan_options.previous_version_schema = latest->plan.version_schema;
    }
  }
  return PlanMigration(conn_, migration, plan_options).ValueOrThrow();
}

MigrationRecord Engine::Start(const model::Migration& migration) {
  state_.RequireInitialized();
  pg::AdvisoryLock lock(conn_, options_.schema, options_.wait_for_other_run, [&](int pid) {
    progress_.OnMessage(fmt::format("waiting for another zerodown (pid {}) to finish", pid));
  });
  auto active = state_.Active(options_.schema);
  MigrationRecord record = active ? Resumed(*active, migration) : Recorded(migration);
  try {
    RunPhase(record, PlanPhase::kStart, record.plan.start);
  } catch (const Error& error) {
    // Lock timeouts and lost connections are worth a rerun; anything else will fail again.
    if (error.kind() == ErrorKind::kLockTimeout || error.kind() == ErrorKind::kConnection) throw;
    throw RolledBackStart(record, error);
  }
  state_.SetPhase(record.schema, record.name, MigrationPhase::kActive);
  record.phase = MigrationPhase::kActive;
  return record;
}

MigrationRecord Engine::Resumed(const MigrationRecord& active, const model::Migration& migration) {
  if (active.name != migration.name) {
    throw Error(ErrorKind::kConflict,
                fmt::format("migration \"{}\" is in progress (phase {}) on schema \"{}\"",
                            active.name, PhaseName(active.phase), options_.schema),
                "Finish it with `zerodown complete` or undo it with `zerodown rollback` first.");
  }
  if (active.phase != MigrationPhase::kStarting) {
    throw Error(ErrorKind::kConflict,
                fmt::format("migration \"{}\" is already started (phase {})", active.name,
                            PhaseName(active.phase)),
                active.phase == MigrationPhase::kActive
                    ? "Run `zerodown complete` to finish it or `zerodown rollback` to undo it."
                    : "Run `zerodown " +
                          std::string(active.phase == MigrationPhase::kCompleting ? "complete"
                                                                                  : "rollback") +
                          "` again to finish what was interrupted.");
  }
  progress_.OnMessage(fmt::format("resuming the interrupted start of \"{}\"", active.name));
  return active;
}

MigrationRecord Engine::Recorded(const model::Migration& migration) {
  auto existing = state_.Find(options_.schema, migration.name);
  if (existing && existing->phase == MigrationPhase::kComplete) {
    throw Error(ErrorKind::kConflict,
                fmt::format("migration \"{}\" was already completed on schema \"{}\"",
                            migration.name, options_.schema),
                "Give the new migration a name of its own (the `name` key or the file name).");
  }
  // Every check happens here, before the first change.
  Plan plan = PlanOnly(migration);
  auto parent = state_.LatestComplete(options_.schema);
  MigrationRecord record;
  record.schema = options_.schema;
  record.name = migration.name;
  record.parent = parent ? std::optional(parent->name) : std::nullopt;
  record.migration = model::ToJson(migration);
  record.plan = plan;
  record.phase = MigrationPhase::kStarting;
  if (existing) {
    state_.Reset(options_.schema, migration.name, record.migration, plan, record.parent);
  } else {
    state_.Insert(record);
  }
  return record;
}

Error Engine::RolledBackStart(const MigrationRecord& record, const Error& error) {
  // The data checks run first and read only: when one stops start, there is nothing to undo.
  bool changed = start_changed_;
  if (changed) {
    progress_.OnMessage("start failed; rolling back what it did");
    state_.SetPhase(record.schema, record.name, MigrationPhase::kRollingBack);
    RunPhase(record, PlanPhase::kRollback, record.plan.rollback);
  }
  state_.SetPhase(record.schema, record.name, MigrationPhase::kRolledBack);
  if (error.kind() == ErrorKind::kInvalidMigration) {
    // The rows, not a step, made the migration impossible (data_failure.hpp).
    return error.WithFix(error.fix() +
                         (changed ? " Start rolled back what it did: the tables are as before."
                                  : " Start found this before changing anything."));
  }
  return Error(
      ErrorKind::kMigrationFailed,
      fmt::format("migration \"{}\" failed and was rolled back: {}", record.name, error.Describe()),
      "Fix the migration and run `zerodown start` again.");
}

MigrationRecord Engine::Complete() {
  state_.RequireInitialized();
  pg::AdvisoryLock lock(conn_, options_.schema, options_.wait_for_other_run, [&](int pid) {
    progress_.OnMessage(fmt::format("waiting for another zerodown (pid {}) to finish", pid));
  });
  auto active = state_.Active(options_.schema);
  if (!active) throw NoActiveMigration(options_.schema, "complete");
  if (active->phase == MigrationPhase::kStarting || active->phase == MigrationPhase::kRollingBack) {
    throw Error(ErrorKind::kConflict,
                fmt::format("migration \"{}\" is in phase {}, not ready to complete", active->name,
                            PhaseName(active->phase)),
                active->phase == MigrationPhase::kStarting
                    ? "Its start was interrupted: run `zerodown start` with the same file to "
                      "finish it, or `zerodown rollback`."
                    : "Its rollback was interrupted: run `zerodown rollback` again.");
  }
  state_.SetPhase(active->schema, active->name, MigrationPhase::kCompleting);
  RunPhase(*active, PlanPhase::kComplete, active->plan.complete);
  state_.SetPhase(active->schema, active->name, MigrationPhase::kComplete);
  active->phase = MigrationPhase::kComplete;
  return *active;
}

MigrationRecord Engine::Rollback() {
  state_.RequireInitialized();
  pg::AdvisoryLock lock(conn_, options_.schema, options_.wait_for_other_run, [&](int pid) {
    progress_.OnMessage(fmt::format("waiting for another zerodown (pid {}) to finish", pid));
  });
  auto active = state_.Active(options_.schema);
  if (!active) throw NoActiveMigration(options_.schema, "roll back");
  if (active->phase == MigrationPhase::kCompleting) {
    throw Error(ErrorKind::kConflict,
                fmt::format("migration \"{}\" is half-way through complete", active->name),
                "The old version is already gone; run `zerodown complete` again to finish.");
  }
  if (active->phase == MigrationPhase::kActive) {
    // What could stop the rollback half-way is checked before its first step.
    for (const auto& action : active->plan.rollback) {
      if (action.kind == ActionKind::kShadowSwapBack) {
        CheckShadowSwapBack(conn_, ShadowCopySpec::FromJson(action.detail.at("spec")));
      }
    }
  }
  state_.SetPhase(active->schema, active->name, MigrationPhase::kRollingBack);
  RunPhase(*active, PlanPhase::kRollback, active->plan.rollback);
  state_.SetPhase(active->schema, active->name, MigrationPhase::kRolledBack);
  active->phase = MigrationPhase::kRolledBack;
  return *active;
}

MigrationStatus Engine::Status() {
  MigrationStatus status;
  status.initialized = state_.Initialized();
  if (!status.initialized) return status;
  status.active = state_.Active(options_.schema);
  status.latest_complete = state_.LatestComplete(options_.schema);
  if (status.active) {
    status.steps = state_.Steps(options_.schema, status.active->name);
    status.search_path = status.active->plan.version_schema;
  } else if (status.latest_complete) {
    status.search_path = status.latest_complete->plan.version_schema;
  }
  return status;
}

void Engine::RunPhase(const MigrationRecord& record, PlanPhase phase,
                      const std::vector<Action>& actions) {
  int index = 0;
  for (const auto& action : actions) {
    ++index;
    auto step = state_.Step(record.schema, record.name, phase, action.id);
    bool done = step && step->done;
    progress_.OnAction(
        {phase, index, static_cast<int>(actions.size()), action.description, RoleOf(action), done});
    if (action.kind != ActionKind::kDataCheck) {
      start_changed_ = start_changed_ || phase == PlanPhase::kStart;
    }
    if (done) continue;
    try {
      RunAction(record, phase, action);
    } catch (const Error& error) {
      if (phase != PlanPhase::kStart) throw;
      // A fill or index build that the data broke: name the row instead of the statement.
      if (auto explained = ExplainDataFailure(conn_, action, error)) throw *explained;
      throw;
    }
  }
}

void Engine::RunAction(const MigrationRecord& record, PlanPhase phase, const Action& action) {
  auto observer = [&](int attempt, std::chrono::milliseconds delay, const Error&) {
    progress_.OnLockRetry(action.description, attempt, delay);
  };
  switch (action.kind) {
    case ActionKind::kTransactional:
      // The step is marked done in the same transaction as its DDL: a kill leaves both or
      // neither.
      pg::RunWithLockRetry(
          conn_, options_.lock, action.description,
          [&](pg::Connection& c) {
            for (const auto& sql : action.sql) c.Exec(sql);
            state_.MarkDone(record.schema, record.name, phase, action.id);
          },
          observer);
      return;
    case ActionKind::kNonTransactional:
      pg::RunOutsideTransactionWithLockRetry(
          conn_, options_.lock, action.description,
          [&](pg::Connection& c) {
            for (const auto& sql : action.sql) c.Run(sql);
          },
          observer);
      break;
    case ActionKind::kDataCheck:
      if (RunDataCheck(conn_, action) == DataCheckOutcome::kSkipped) {
        progress_.OnMessage(fmt::format(
            "skipped a data check (cut off after {} s, or `up` cannot run read-only); the fill "
            "will name any row that breaks it: {}",
            kDataCheckTimeoutSeconds, action.description));
      }
      break;
    case ActionKind::kBackfill:
      RunBackfillAction(record, phase, action);
      break;
    case ActionKind::kShadowCopy:
    case ActionKind::kShadowSwapBack:
      RunShadowAction(record, phase, action);
      break;
  }
  state_.MarkDone(record.schema, record.name, phase, action.id);
}

void Engine::RunBackfillAction(const MigrationRecord& record, PlanPhase phase,
                               const Action& action) {
  auto step = state_.Step(record.schema, record.name, phase, action.id);
  BackfillCheckpoint from =
      step ? BackfillCheckpoint::FromJson(step->checkpoint) : BackfillCheckpoint{};
  // The triggers a backfill fires went in just before it: every application session compiles
  // them on its next write to the table, and the first batch lets them have the CPU.
  if (from.rows_done == 0 && options_.backfill.settle) {
    options_.backfill.settle(fmt::format("the triggers on {} went in", action.table));
  }
  RunBackfill(
      conn_, action.schema, action.table, action.key_columns, options_.backfill, from,
      [&](const BackfillCheckpoint& checkpoint, std::int64_t total) {
        state_.SaveProgress(record.schema, record.name, phase, action.id, checkpoint.rows_done,
                            total, checkpoint.ToJson());
      },
      progress_);
}

void Engine::RunShadowAction(const MigrationRecord& record, PlanPhase phase, const Action& action) {
  auto step = state_.Step(record.schema, record.name, phase, action.id);
  nlohmann::json checkpoint = step ? step->checkpoint : nlohmann::json();
  SaveCheckpoint save = [&](pg::Connection& on, const nlohmann::json& saved, std::int64_t rows,
                            std::int64_t total) {
    State(on).SaveProgress(record.schema, record.name, phase, action.id, rows, total, saved);
  };
  ShadowCopyOptions copy = ShadowOptions();
  if (action.kind == ActionKind::kShadowCopy) {
    copy.before_cutover = options_.before_cutover;
    RunShadowCopy(conn_, ShadowCopySpec::FromJson(action.detail), copy, checkpoint, save,
                  progress_);
    return;
  }
  // The copy's own checkpoint names the indexes its swap renamed.
  auto forward = state_.Step(record.schema, record.name, PlanPhase::kStart,
                             action.detail.at("start_action").get<std::string>());
  RunShadowSwapBack(conn_, ShadowCopySpec::FromJson(action.detail.at("spec")), copy,
                    forward ? forward->checkpoint : nlohmann::json(), checkpoint, save, progress_);
}

ShadowCopyOptions Engine::ShadowOptions() const {
  ShadowCopyOptions copy;
  copy.chunks = options_.backfill;
  copy.lock = options_.lock;
  copy.check_before_swap = options_.check_before_swap;
  copy.replay_sessions = options_.replay_sessions;
  copy.catch_up_sessions = options_.catch_up_sessions;
  copy.copy_sessions = options_.copy_sessions;
  copy.parallel_index_builds = options_.parallel_index_builds;
  copy.swap_when_log_below = options_.swap_when_log_below;
  copy.swap_log_target = options_.swap_log_target;
  return copy;
}

}  // namespace zerodown::engine
