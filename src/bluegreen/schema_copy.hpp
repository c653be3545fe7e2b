// Copies one database's schema into another: pg_dump --schema-only of the source (without the
// zerodown schema, publications and subscriptions), run on the target in one transaction, so a
// failure leaves the target as it was. No rows: the subscription's initial copy brings those.
#pragma once

#include <string>

#include "zerodown/pg/connection.hpp"

namespace zerodown::bluegreen {

// `bindir` "" = $ZERODOWN_PG_BINDIR, then the compiled-in default. Throws Error(kDatabase) with
// pg_dump's message or the statement the target refused.
void CopySchema(const pg::Connection& source, pg::Connection& target, const std::string& bindir);

}  // namespace zerodown::bluegreen
