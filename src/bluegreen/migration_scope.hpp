// Which migrations `bluegreen start` and `bluegreen complete` may run on green while blue's
// changes keep arriving through logical replication, judged from the migration file alone (the
// catalog and plan checks are in migration.cpp). It reads no database.
#pragma once

#include "zerodown/common/error.hpp"
#include "zerodown/model/operations.hpp"

namespace zerodown::bluegreen {

// Ok when every operation of `migration` is one that logical replication from blue tolerates on
// green: add_column, alter_column (type, nullability, default, check, unique, foreign key,
// comment), create_index and create_constraint. Otherwise kInvalidMigration naming the first
// operation that is not, why, and the fix.
Status CheckStartScope(const model::Migration& migration);

// Ok when complete can run on green while blue still serves: after complete no trigger
// transforms blue's rows any more, so every operation must take them as they arrive (a column
// matched by name, with no `up` or an `up` that is the column itself or a plain cast of it).
// Otherwise kConflict naming the operation and the fix (switch first).
Status CheckCompleteWhileBlueServes(const model::Migration& migration);

}  // namespace zerodown::bluegreen
