// The new version's schema: one view per table, showing each column under the name the new
// version uses, created at start and dropped on rollback; the previous version's dropped at
// complete. The schema is dropped with everything in it, so it is checked first: it must not be
// the tables' schema, the version applications use now, another schema's version, or a schema
// that holds anything but views.
#pragma once

#include <string>
#include <vector>

#include "zerodown/common/error.hpp"
#include "zerodown/engine/operation.hpp"
#include "zerodown/engine/planner.hpp"

namespace zerodown::engine {

// Why `version` cannot be the new version schema of `migration`, with the fix; ok when it can.
Status CheckVersionSchema(pg::Connection& conn, const model::Migration& migration,
                          const PlanOptions& options, const std::string& version);

// Adds to `plan` the new version schema's views at start; at rollback their drop, first (they
// pin the columns); at complete the drop of the previous version's. `known`: the tables that
// existed before start (the plan's created tables are added to it).
void PlanVersionSchema(PlanContext& context, Plan& plan, const PlanOptions& options,
                       const std::string& version, std::vector<std::string> known);

}  // namespace zerodown::engine
