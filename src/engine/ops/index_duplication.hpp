// The indexes and unique constraints over the columns ColumnDuplication copies, carried over to
// the copies the way pgroll does it: each index is built again over the copies under a temporary
// name (CREATE INDEX CONCURRENTLY after the backfill: SHARE UPDATE EXCLUSIVE, reads and writes go
// on), its definition rewritten by libpg_query (sql::RewriteIndexDefinition), so plain, unique,
// partial, expression and multi-column indexes keep their method, operator classes, collations,
// sort order, INCLUDE, WITH and predicate. complete drops the original with its column, then, in
// the same ACCESS EXCLUSIVE catalog-only transaction, renames the duplicate to the original's
// name, or attaches it as the unique constraint (ADD CONSTRAINT … UNIQUE USING INDEX), and
// restores comment, CLUSTER mark and replica identity. The originals keep their names
// throughout, and rollback drops the duplicates with the copies, so start → rollback leaves the
// schema as it was. Primary keys, exclusion constraints and invalid indexes are refused. It plans;
// it runs no DDL.
#pragma once

#include <map>
#include <optional>
#include <string>
#include <vector>

#include "zerodown/engine/operation.hpp"
#include "zerodown/pg/catalog_indexes.hpp"

namespace zerodown::engine::ops {

class IndexDuplication {
 public:
  // Finds every index of `table` (physical, existing before the migration) that reads a column of
  // `copies` (original physical name -> the copy's) in its key, INCLUDE list, expressions or
  // predicate, except `dropping` (a constraint or index the operation removes), and prepares its
  // duplicate. kInvalidMigration, naming `field`, for an index that cannot be carried over:
  // a primary key, an exclusion constraint, an invalid index, one that also reads a column an
  // earlier operation of this migration copies or drops, or one libpg_query cannot rewrite.
  // Read-only.
  Status Validate(PlanContext& context, const VirtualTable& table,
                  const std::map<std::string, std::string>& copies,
                  const std::optional<std::string>& dropping, const std::string& field);
  // The start actions that build the duplicates; run after the copies are filled.
  void PlanStart(PlanContext& context) const;
  // The statements complete's swap runs after the originals are dropped and the copies renamed;
  // `at_complete` is the table as complete names it.
  std::vector<std::string> CompleteSql(PlanContext& context, const std::string& at_complete) const;
  bool empty() const { return duplicates_.empty(); }

 private:
  struct Duplicate {
    pg::IndexDetail original;  // what complete restores on the duplicate: constraint, comments…
    std::string temp;          // the duplicate's until complete: _zd_dup_<the original's oid>
    std::string create_sql;    // CREATE [UNIQUE] INDEX CONCURRENTLY temp … over the copies
  };

  std::vector<Duplicate> duplicates_;
};

}  // namespace zerodown::engine::ops
