// When the rows already in a table make a migration impossible (an `up` that cannot convert a
// value, NULLs where NOT NULL is asked, a check or unique constraint the rows break), this names
// the operation, the table, the column, the key of the first such row and its value (or two rows
// that share a value) and the fix, as one kInvalidMigration error. It runs read-only statements
// only: the data checks before start's first change, and after a failed fill a key-ordered pass
// that evaluates `up` chunk by chunk, then row by row in the chunk that fails.
#pragma once

#include <optional>

#include "zerodown/common/error.hpp"
#include "zerodown/engine/plan.hpp"
#include "zerodown/pg/connection.hpp"

namespace zerodown::engine {

enum class DataCheckOutcome {
  kFits,     // no row breaks it
  kSkipped,  // cut off after kDataCheckTimeoutSeconds, or the statement cannot run read-only:
             // the fill will meet any such row, and ExplainDataFailure names it then
};

// Runs a kDataCheck action's statement in a READ ONLY transaction under a statement_timeout.
// Throws kInvalidMigration naming the first row that breaks it (or a pair of rows for a unique
// constraint, or the row whose `up` fails while it is evaluated).
DataCheckOutcome RunDataCheck(pg::Connection& conn, const Action& action);

// For `error` thrown by the start action `failed`: when `failed` carries a data probe and the
// error is a data exception or a constraint violation (SQLSTATE class 22 or 23), the
// kInvalidMigration error that names the row it stems from. nullopt when it is neither or no
// read-only pass finds the row.
std::optional<Error> ExplainDataFailure(pg::Connection& conn, const Action& failed,
                                        const Error& error);

}  // namespace zerodown::engine
