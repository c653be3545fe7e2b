// What names the live table and must name the new heap after a swap (views, the user's
// triggers, foreign keys both ways, owned sequences, owner, grants, comment, replica identity,
// storage options), read from the catalog as the statements that re-create it; and the
// validation of the foreign keys a swap re-created NOT VALID. Runs none of those statements
// itself, except the validation.
#pragma once

#include <string>
#include <utility>
#include <vector>

#include "engine/shadow/context.hpp"
#include "zerodown/pg/connection.hpp"

namespace zerodown::engine::shadow {

struct Dependent {
  std::vector<std::string> statements;                           // run after the renames
  std::vector<std::pair<std::string, std::string>> to_validate;  // (table, constraint)
  std::vector<std::string> triggers;       // names of the user's triggers, re-created
  std::vector<std::string> outgoing_keys;  // names of the table's own foreign keys, re-created
};

// The tables whose foreign keys point at `live` (quoted): the swap re-creates those keys, so it
// locks them with it. ReadDependents reads the keys again with the rest under the lock.
std::vector<std::string> ReferencingTables(pg::Connection& c, const std::string& live);

// Views over `live`, each with a statement that takes its ACCESS EXCLUSIVE lock and changes
// nothing (ALTER VIEW … OWNER TO its owner): the swap re-creates them, and it must lock them
// before the table. An application writing through a view (a version schema) locks the view
// first and the table second; a swap that held the table and then asked for the view would wait
// on a client that waits on it, until lock_timeout, at every attempt. LOCK TABLE on a view is no
// way around: it locks the view's tables too, at once, before the next view.
std::vector<std::string> ViewLocks(pg::Connection& c, const std::string& live);

// Everything that names the live heap and must name the new one after the swap, read inside
// the swap's transaction (so nothing changes under it) while the names still point at the live
// heap. `types_change`: a column's type changes, so views are dropped and created again rather
// than replaced. Sets the transaction's search_path and plan_cache_mode (generic plans, made
// before the lock: see CutOver).
Dependent ReadDependents(pg::Connection& c, const Context& ctx, bool types_change);

// Validates the foreign keys a swap re-created NOT VALID (the checkpoint's "validate"; SHARE
// UPDATE EXCLUSIVE: writes go on), each in its own transaction under the lock retry policy.
void ValidateKeys(Context& ctx);

}  // namespace zerodown::engine::shadow
