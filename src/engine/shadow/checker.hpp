// The check before the swap: the copy against the table (engine/copy_check.hpp), as
// ShadowCopyOptions::check_before_swap asks. A copy that differs from the table is a bug (or a
// write that bypassed the change log, made with its triggers disabled): never swapped in.
#pragma once

#include "engine/shadow/context.hpp"

namespace zerodown::engine::shadow {

// Reads only. Throws kMigrationFailed, naming the first keys that differ, when the copy differs;
// records the rows compared in the report and the checkpoint.
void CheckBeforeSwap(Context& ctx);

}  // namespace zerodown::engine::shadow
