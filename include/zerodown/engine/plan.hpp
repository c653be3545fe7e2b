// A migration's plan as data: the actions `start`, `complete` and `rollback` will run, each with
// its SQL and the lock it takes. Operations produce plans; one executor runs them. Nothing here
// touches a database, so `zerodown plan` prints exactly what `start` would run.
#pragma once

#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace zerodown::engine {

enum class ActionKind {
  kTransactional,     // statements run in one transaction under lock_timeout, retried on timeout
  kNonTransactional,  // statements that refuse a transaction block (… CONCURRENTLY), retried
  kBackfill,          // a batched, throttled pass over every row of a table (fires the triggers)
  kShadowCopy,        // copy the table into a new heap beside it, then swap (shadow_copy.hpp)
  kShadowSwapBack,    // rollback of a copy that kept the old heap: swap the old heap back in
  // A read-only statement, run before any change, that returns the first row the data makes the
  // migration fail on (none when the data fits); detail holds what it checks (data_probe.hpp).
  kDataCheck,
};

// How an operation that rewrites every row of a table moves the data.
enum class Mechanism {
  kAuto,     // the planner picks by the table's size (see docs/migrations.md)
  kInPlace,  // a new column in the same heap, filled by batched UPDATEs through the triggers
  kShadow,   // a copy of the table in a new heap, filled by INSERT … SELECT, swapped in at start
};
// "auto", "inplace" or "shadow"; nullopt for anything else.
std::optional<Mechanism> MechanismFromName(std::string_view name);
std::string_view MechanismName(Mechanism mechanism);

struct Action {
  std::string id;  // unique within its phase; the resume key in zerodown.steps
  ActionKind kind = ActionKind::kTransactional;
  std::string description;  // one line for people: "add column _zd_new_abalance (bigint)"
  std::string lock;         // the strongest lock taken and for how long
  std::vector<std::string> sql;
  // kBackfill only: the physical table and its key columns (primary key or a unique not-null
  // index), in order.
  std::string schema;
  std::string table;
  std::vector<std::string> key_columns;
  // kShadowCopy: the ShadowCopySpec as JSON; kShadowSwapBack: {"spec": …, "start_action": the
  // id of the start action that made the copy (its checkpoint names the swapped indexes)}.
  nlohmann::json detail;
};

// What `zerodown verify` compares while a migration is in progress: for every row of
// schema.table, the value the new version's column should hold (computed from the old version's
// row) against the value it holds.
struct ColumnCheck {
  std::string description;  // "abalance: up(old row) against _zd_new_abalance"
  std::string schema;
  std::string table;                     // physical
  std::vector<std::string> key_columns;  // physical, in key order
  // A SELECT yielding per row the key columns (under their physical names), `expected` and
  // `actual`. It reads schema.table only; a filter on the key columns reaches its index.
  std::string select_sql;
};

struct Plan {
  std::vector<Action> start;
  std::vector<Action> complete;
  std::vector<Action> rollback;
  std::string version_schema;       // the schema of views the new version uses
  std::vector<ColumnCheck> checks;  // what `zerodown verify` compares after start
};

nlohmann::json ToJson(const Plan& plan);
Plan PlanFromJson(const nlohmann::json& json);

// Human-readable rendering of the plan, phase by phase, with locks.
std::string Describe(const Plan& plan);

}  // namespace zerodown::engine
