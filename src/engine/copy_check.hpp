// The check a shadow copy runs before its swap: rows of the live table, read as the copy would
// write them now, against their rows in the new heap; and rows of the new heap the live table
// does not have. Keys in the change log (written since the last replay) are skipped, which makes
// the comparison exact under writes: each side is one statement, so the live heap, the new heap
// and the log are read from one snapshot, and a write and its log entry commit together. Reads
// only; takes ACCESS SHARE.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "engine/key_sql.hpp"
#include "zerodown/engine/shadow_copy.hpp"

namespace zerodown::engine {

struct CopyCheckResult {
  double percent = 100;           // of the tables' pages read (TABLESAMPLE SYSTEM)
  std::int64_t rows = 0;          // live rows compared
  std::int64_t mismatched = 0;    // of them, rows whose copy differs or is missing
  std::int64_t extra = 0;         // rows of the new heap read that the live table does not have
  std::vector<std::string> keys;  // the first keys that differ, as text, for the message
  double seconds = 0;
};

// `live`, `shadow`, `log` quoted; `key` built on the live table. kSample reads pages enough for
// about `sample_rows` rows of each heap, kFull every row; kOff returns an empty result.
CopyCheckResult CheckCopy(pg::Connection& conn, const ShadowCopySpec& spec, const KeySql& key,
                          const std::string& live, const std::string& shadow,
                          const std::string& log, CopyCheckMode mode, std::int64_t sample_rows);

}  // namespace zerodown::engine
