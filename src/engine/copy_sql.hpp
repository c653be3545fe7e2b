// What the shadow copy reads from the live heap and writes into the new one: the live table's
// columns in order, each read under the name the old version gives it (so `up` and a key's
// conversion read as they do in the trigger), cast for a retyped column, then the added columns
// filled by their expressions. The copy's chunks, its replay and the check before the swap all
// read rows through it, so they agree on what a row of the new heap should hold.
#pragma once

#include <string>

#include "zerodown/engine/shadow_copy.hpp"
#include "zerodown/pg/connection.hpp"

namespace zerodown::engine {

struct CopySql {
  std::string insert_columns;  // the new heap's columns, live ones first
  std::string select_list;     // over the aliased source row
  std::string source_list;     // over the live heap: each column under the old version's name
};

// `qualified` is the live table's quoted, schema-qualified name; reads its columns from the
// catalog.
CopySql BuildCopySql(pg::Connection& conn, const ShadowCopySpec& spec,
                     const std::string& qualified);

}  // namespace zerodown::engine
