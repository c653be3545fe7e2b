// Every column's current type and the constrained domains of a database, read from pg_catalog in
// one query each, for `zerodown lint --postgres-url`. It reads only.
#pragma once

#include <string>
#include <utility>
#include <vector>

#include "zerodown/pg/connection.hpp"

namespace zerodown::pg {

// One column of a user table.
struct TypedColumn {
  std::string schema;
  std::string table;
  std::string column;
  std::string type;  // format_type(), e.g. "character varying(20)"
};

// Every column of every ordinary and partitioned table outside the system schemas.
std::vector<TypedColumn> AllColumnTypes(Connection& conn);

// Domains with a CHECK or NOT NULL, as {"name" in `schema` or "schema.name" elsewhere, base type}.
std::vector<std::pair<std::string, std::string>> ConstrainedDomains(Connection& conn,
                                                                    const std::string& schema);

}  // namespace zerodown::pg
