// The live table's indexes as a shadow copy sees them: what to build on the new heap, under
// which temporary name, and the renames that give each its name at the swap. Catalog reads and
// statement text; builds nothing (index_builder.hpp).
#pragma once

#include <string>
#include <vector>

#include "engine/shadow/context.hpp"
#include "zerodown/pg/connection.hpp"

namespace zerodown::engine::shadow {

struct IndexToBuild {
  std::string oid;
  std::string name;
  std::string definition;  // pg_get_indexdef, qualified names
  std::string constraint;  // "p", "u" or "" for a plain index
  bool deferrable = false;
  bool deferred = false;
  bool beyond_key = false;  // unique over other columns than the key: see HasUniqueBeyondKey
};

// Whether `table` (quoted) has a unique index that two rows with different keys can collide in
// (an email, a code). The copy reads rows at many moments and a replay batch copies the keys it
// takes as they are now: a value one row gave up after its copy and another row took before
// its own would then be there twice. So such an index is built only once a replay of the
// whole log has made the new heap one moment of the table, and every replay after that takes
// the whole log in one snapshot (see Replayer::WholeLogReplay).
bool HasUniqueBeyondKey(pg::Connection& c, const std::vector<std::string>& key_columns,
                        const std::string& table);

// The valid indexes of the live table, primary key first. Sets the transaction's search_path to
// pg_catalog: the definitions then name every object with its schema, so they read the same
// wherever they run.
std::vector<IndexToBuild> LiveIndexes(pg::Connection& c, const Context& ctx);

std::string TempIndexName(const IndexToBuild& index);

// The live table's name as pg_get_indexdef prints it under LiveIndexes' search_path.
std::string LiveText(pg::Connection& c, const std::string& live);

// Each index of the live heap gives its name to its twin on the new heap: the renames of the
// live heap's indexes first, then those of the new heap's (two halves of equal length).
std::vector<std::string> RenameIndexes(pg::Connection& c, const Context& ctx,
                                       const std::vector<IndexToBuild>& indexes);

}  // namespace zerodown::engine::shadow
