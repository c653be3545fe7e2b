// Named builders for the index DDL that several operations emit, so each statement is spelled in
// one place: identifier lists, index parameter clauses, and the concurrent build of a unique
// index. They build text and actions; they run nothing.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "zerodown/engine/operation.hpp"

namespace zerodown::engine::ops {

// `names`, each quoted by libpq, joined with ", " (a column list).
std::string IdentList(pg::Connection& conn, const std::vector<std::string>& names);

// Where index parameters are spelled: CREATE INDEX writes `TABLESPACE t`, a table constraint
// `USING INDEX TABLESPACE t`.
enum class IndexClauses { kCreateIndex, kConstraint };

// " INCLUDE (…) WITH (…) [USING INDEX] TABLESPACE …" for `parameters` ("" when absent), the
// included columns by their physical names in `table` (each must exist there).
std::string IndexParameterClauses(pg::Connection& conn, VirtualTable& table,
                                  const std::optional<model::IndexParameters>& parameters,
                                  IndexClauses where);

// A unique index built without blocking writes.
struct UniqueIndexBuild {
  std::string name;                  // the index, in the run's schema
  std::vector<std::string> columns;  // physical names
  bool nulls_not_distinct = false;
  std::optional<model::IndexParameters> parameters;  // included columns as `table` names them
};

// CREATE UNIQUE INDEX CONCURRENTLY for `build` on `table`.
std::string CreateUniqueIndexConcurrentlySql(pg::Connection& conn, const std::string& qualified,
                                             VirtualTable& table, const UniqueIndexBuild& build);

// The non-transactional start action that builds `build`: it first drops what a failed build left
// under the name (an INVALID index), so a rerun starts clean. Lock: SHARE UPDATE EXCLUSIVE while
// it builds; reads and writes go on.
Action UniqueIndexBuildAction(PlanContext& context, VirtualTable& table, std::string_view id,
                              std::string description, const UniqueIndexBuild& build);

}  // namespace zerodown::engine::ops
