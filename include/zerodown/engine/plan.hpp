// A migration's plan as data: the actions `start`, `complete` and `rollback` will run, each with
// its SQL and the lock it takes. Operations produce plans; one executor runs them. Nothing here
// touches a database, so `zerodown plan` prints exactly what `start` would run.
#pragma once

#include <nlohmann/json.hpp>
#include <string>
#include <vector>

namespace zerodown::engine {

enum class ActionKind {
  kTransactional,     // statements run in one transaction under lock_timeout, retried on timeout
  kNonTransactional,  // statements that refuse a transaction block (… CONCURRENTLY), retried
  kBackfill,          // a batched, throttled pass over every row of a table (fires the triggers)
};

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
};

struct Plan {
  std::vector<Action> start;
  std::vector<Action> complete;
  std::vector<Action> rollback;
  std::string version_schema;  // the schema of views the new version uses
};

nlohmann::json ToJson(const Plan& plan);
Plan PlanFromJson(const nlohmann::json& json);

// Human-readable rendering of the plan, phase by phase, with locks.
std::string Describe(const Plan& plan);

}  // namespace zerodown::engine
