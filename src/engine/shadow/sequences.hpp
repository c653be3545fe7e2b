// The sequences a swap (either way) hands from one heap to the other: identity sequences carried
// over, and the sequences behind a retyped key column widened with it: the statements that move
// them, over pg/catalog_sequences' reads; runs inside the swap's transaction.
#pragma once

#include <string>
#include <vector>

#include "zerodown/engine/shadow_copy.hpp"
#include "zerodown/pg/connection.hpp"

namespace zerodown::engine::shadow {

// After a swap (either way), `from` is the heap that served until now and `to` the one that
// serves from now on, both under their new names: each identity column of `to` continues from
// where `from`'s sequence is, and its sequence takes the name of `from`'s, which steps aside.
void CarryIdentitySequences(pg::Connection& c, const std::string& from, const std::string& to);

// A sequence behind a retyped key column (serial) is as wide as the old type: it would stop at
// 2^31 - 1 under a bigint key. Widened with it (ALTER SEQUENCE … AS keeps its value): the
// statements that do it, for `live` (quoted).
std::vector<std::string> WidenSequences(pg::Connection& c, const ShadowCopySpec& spec,
                                        const std::string& live);

}  // namespace zerodown::engine::shadow
