// Catalog reads of who may do what on a relation: its owner's grants to others, table- and
// column-level. Each query takes the names as parameters; nothing here changes the database.
#pragma once

#include <string>
#include <vector>

#include "zerodown/pg/connection.hpp"

namespace zerodown::pg {

// One privilege granted on a relation or one of its columns.
struct Grant {
  std::string privilege;  // aclexplode's privilege_type: a fixed keyword (SELECT, INSERT…)
  bool grantable = false;
  std::string grantee;  // the role's name, "" for PUBLIC
  std::string column;   // "" for a table-level grant
};
// The grants on relation `relation` (a regclass or oid, as text) to anyone but its owner,
// table-level first, then column-level; a swap grants them again on the relation that takes its
// place. Prepared: the swap reads them under its lock.
std::vector<Grant> RelationGrants(Connection& conn, const std::string& relation);

}  // namespace zerodown::pg
