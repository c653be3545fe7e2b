// Whether a parsed statement list certainly only reads (session_sql.hpp's ReadKind), from
// libpg_query's tree: the part of AnalyzeSql that answers for --read-share. Conservative by
// construction: whatever it does not know stays on the primary. It does no I/O and no parsing.
#pragma once

#include <pg_query/pg_query.pb-c.h>

#include <string_view>

#include "proxy/session_sql.hpp"

namespace zerodown::proxy {

// A cheap look at the text's first word (after blanks and comments): false when it cannot begin
// a read (SELECT, WITH, VALUES, TABLE, a parenthesis, BEGIN or START), so the caller need not
// parse it.
bool MayBeRead(std::string_view sql);

// The ReadKind of a parsed text.
ReadKind ClassifyRead(const PgQuery__ParseResult& tree);

}  // namespace zerodown::proxy
