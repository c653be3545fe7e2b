// rebuild_table's `alter` field: ALTER TABLE clauses, as a user would write them after
// `ALTER TABLE <table>`, turned into the column changes the engine copies (`columns`). The
// engine does not parse SQL, so whoever reads a migration file lowers them first. Reads the parse
// tree only; never connects to a database.
#pragma once

#include <string>

#include "zerodown/common/error.hpp"
#include "zerodown/model/operations.hpp"

namespace zerodown::sql {

// Replaces every rebuild_table's `alter` by the column changes it states, merged into its
// `columns`: ALTER COLUMN … TYPE … [USING …], SET/DROP NOT NULL, SET/DROP DEFAULT. Anything else
// (a column added or dropped, a constraint, a second statement) is kInvalidMigration naming the
// operation and the operation to use instead; nothing is changed then.
Status LowerRebuildClauses(model::Migration& migration);

}  // namespace zerodown::sql
