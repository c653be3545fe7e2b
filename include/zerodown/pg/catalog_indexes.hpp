// Catalog reads of a table's indexes as a rebuild needs them: their definitions, the constraints
// they back, and whether they are unique over more than a given key. Each query takes the names
// as parameters; nothing here changes the database.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "zerodown/pg/connection.hpp"

namespace zerodown::pg {

// A valid index of a table, as a new heap builds it again.
struct IndexDefinition {
  std::string oid;
  std::string name;
  std::string definition;  // pg_get_indexdef(), as printed under the caller's search_path
  std::string constraint;  // "p", "u" or "" for an index that backs no such constraint
  bool deferrable = false;
  bool deferred = false;
  bool beyond_key = false;  // unique, and its plain columns do not include every key column
};
// The valid indexes of relation `regclass` (quoted, qualified), the primary key's first, then by
// name, each marked unique beyond `key_columns` or not; a shadow copy builds them on the new heap.
// Prepared: the swap reads them again under its lock.
std::vector<IndexDefinition> ValidIndexes(Connection& conn, const std::string& regclass,
                                          const std::vector<std::string>& key_columns);

// An index of a table with what a rebuild of it must restore, and the columns it reads.
struct IndexDetail {
  std::string oid;
  std::string name;
  std::string definition;  // pg_get_indexdef(), as printed under the caller's search_path
  bool primary = false;
  bool valid = true;
  std::string constraint;    // the constraint it backs, or ""
  char constraint_type = 0;  // 'p', 'u', 'x' or 0
  bool deferrable = false;
  bool deferred = false;
  std::optional<std::string> index_comment;
  std::optional<std::string> constraint_comment;
  bool clustered = false;
  bool replica_identity = false;
  std::vector<std::string> columns;  // every column it reads
};
// Every index of relation `regclass` by name, with the columns it reads: its key and INCLUDE
// columns (indkey) and, for expressions and predicates, the columns it depends on (pg_depend;
// PostgreSQL records them for those only); the planner carries the indexes over a copied column.
std::vector<IndexDetail> IndexDetails(Connection& conn, const std::string& regclass);

// Whether relation `regclass` has a unique index whose plain columns do not include every one of
// `key_columns`: two rows with different keys may collide in it, so a replay must delete before
// it inserts.
bool HasUniqueIndexBeyond(Connection& conn, const std::string& regclass,
                          const std::vector<std::string>& key_columns);

}  // namespace zerodown::pg
