// Rewriting a CREATE INDEX statement, as pg_get_indexdef prints it, for an index that must be
// built again over other columns: libpg_query parses it, the column references in its key,
// INCLUDE list, expressions and predicate are renamed in the parse tree, and libpg_query deparses
// it. It never connects to a database and knows nothing of the engine's names.
#pragma once

#include <map>
#include <string>
#include <string_view>

#include "zerodown/common/error.hpp"

namespace zerodown::sql {

struct IndexRewrite {
  // The new index's name, unqualified, one that needs no quotes (lower case, digits, _): the
  // libpg_query 15 deparser prints an index name as it is. kInternal otherwise.
  std::string name;
  std::map<std::string, std::string> columns;  // column name -> the name the new index uses
};

// `definition` (one CREATE [UNIQUE] INDEX statement) as a CREATE INDEX CONCURRENTLY statement
// named `rewrite.name`, every reference to a column of `rewrite.columns` renamed, everything else
// (table, method, operator classes, collations, sort order, INCLUDE, WITH, WHERE, NULLS NOT
// DISTINCT) kept. kInvalidMigration when it is not one CREATE INDEX statement; kInternal when
// libpg_query cannot deparse the tree.
Result<std::string> RewriteIndexDefinition(std::string_view definition,
                                           const IndexRewrite& rewrite);

}  // namespace zerodown::sql
