// Turns a checked migration into a plan against the live catalog: every operation is validated
// first (tables, columns, types, up/down expressions compiled by the server) and only then
// planned, so a bad migration fails before anything changes. Reads the catalog; changes nothing.
#pragma once

#include <optional>
#include <string>

#include "zerodown/engine/plan.hpp"
#include "zerodown/model/operations.hpp"
#include "zerodown/pg/connection.hpp"

namespace zerodown::engine {

struct PlanOptions {
  std::string schema = "public";
  // The version schema of the migration that is current now (its views are dropped on complete),
  // if any.
  std::optional<std::string> previous_version_schema;
  Mechanism mechanism = Mechanism::kAuto;
};

// The version schema a migration's views live in: `version_schema` when the file sets it,
// otherwise "<schema>_<name>".
std::string VersionSchemaName(const model::Migration& migration, const std::string& schema);

// Validates every operation of `migration` against the catalog and plans start, complete and
// rollback. Errors name the file, the operation index and kind, and the fix.
Result<Plan> PlanMigration(pg::Connection& conn, const model::Migration& migration,
                           const PlanOptions& options);

}  // namespace zerodown::engine
