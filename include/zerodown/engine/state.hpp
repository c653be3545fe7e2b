// zerodown's state in the target database (schema `zerodown`): each migration with its file as
// JSON, its plan, its phase, and which actions of which phase are done, with backfill
// checkpoints. Everything needed to resume after a kill lives here, never in local files.
#pragma once

#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <vector>

#include "zerodown/common/progress.hpp"
#include "zerodown/engine/plan.hpp"
#include "zerodown/pg/connection.hpp"

namespace zerodown::engine {

// Where a migration is. Stored by name ("starting", "active", ...) in zerodown.migrations.phase,
// which `status --json` shows.
enum class MigrationPhase {
  kStarting,     // start is running (or was, when killed)
  kActive,       // start finished: both versions work
  kCompleting,   // complete is running (or was)
  kComplete,     // the old version is gone
  kRollingBack,  // rollback is running (or was)
  kRolledBack,   // back to the old schema; the migration may be started again
};

// The stored name of `phase`.
std::string_view PhaseName(MigrationPhase phase);
// The phase stored as `name`; throws kInternal for a name this zerodown does not know.
MigrationPhase PhaseFromName(std::string_view name);

struct MigrationRecord {
  std::string schema;
  std::string name;
  std::optional<std::string> parent;
  nlohmann::json migration;
  Plan plan;
  MigrationPhase phase = MigrationPhase::kStarting;
  std::string created_at;
  std::string updated_at;
};

struct StepRecord {
  std::string phase;
  std::string action;
  bool done = false;
  std::int64_t rows_done = 0;
  std::int64_t rows_total = 0;
  nlohmann::json checkpoint;  // backfill: {"last_key": [...]}
  std::string updated_at;
};

class State {
 public:
  explicit State(pg::Connection& conn) : conn_(conn) {}

  // Creates the state schema and tables if missing. Idempotent; returns true when it created
  // anything. Fails with a clear error on a read-only standby.
  bool Init();
  bool Initialized();
  // Throws kUsage naming `zerodown init` when the state schema is missing.
  void RequireInitialized();

  // The migration in progress (any phase but complete / rolled_back) for `schema`.
  std::optional<MigrationRecord> Active(const std::string& schema);
  // The latest completed migration for `schema`.
  std::optional<MigrationRecord> LatestComplete(const std::string& schema);
  std::optional<MigrationRecord> Find(const std::string& schema, const std::string& name);
  std::vector<MigrationRecord> History(const std::string& schema);

  void Insert(const MigrationRecord& record);
  void SetPhase(const std::string& schema, const std::string& name, MigrationPhase phase);
  // Forgets a rolled-back migration's steps so that it can be started again.
  void Reset(const std::string& schema, const std::string& name, const nlohmann::json& migration,
             const Plan& plan, const std::optional<std::string>& parent);

  std::vector<StepRecord> Steps(const std::string& schema, const std::string& name);
  std::optional<StepRecord> Step(const std::string& schema, const std::string& name,
                                 PlanPhase phase, const std::string& action);
  void MarkDone(const std::string& schema, const std::string& name, PlanPhase phase,
                const std::string& action);
  void SaveProgress(const std::string& schema, const std::string& name, PlanPhase phase,
                    const std::string& action, std::int64_t rows_done, std::int64_t rows_total,
                    const nlohmann::json& checkpoint);

 private:
  MigrationRecord FromRow(const pg::Rows& rows, int row);
  pg::Connection& conn_;
};

}  // namespace zerodown::engine
