// The key-range arithmetic of the integer-key copy: lanes (one per copy session, each its own
// range of key values), the next range a lane reads, how wide, and which log entries no lane has
// reached. Pure: no connection, no clock.
#pragma once

#include <cstdint>
#include <limits>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <vector>

#include "engine/key_sql.hpp"
#include "zerodown/pg/connection.hpp"

namespace zerodown::engine::shadow {

// A lane of the integer-key copy (KeyRangeCopy): the keys in (last, end], walked upwards;
// [last, end] while `from_last` (the first lane starts at the smallest key, and "one below it"
// does not exist for the smallest value of the key's type). The last lane has no end: it also
// takes the rows inserted beyond the largest key seen when the copy began.
struct CopyLane {
  std::int64_t last = 0;  // the keys up to here are copied
  std::optional<std::int64_t> end;
  std::int64_t width = 10000;  // keys per range, sized to the chunk time
  bool done = false;
  bool from_last = false;  // `last` itself is not copied yet

  nlohmann::json ToJson() const;
  static CopyLane FromJson(const nlohmann::json& json);
};

// The widest range a lane reads at once: keys spread over the whole 64-bit space (random or
// time-based ids) need ranges far wider than a dense key's, and a narrower limit would walk
// them in millions of near-empty ranges.
constexpr std::int64_t kMaxLaneWidth = std::int64_t{1} << 62;
// A lane reading to the end of the key space.
constexpr std::int64_t kUnbounded = std::numeric_limits<std::int64_t>::max();

// How many keys lie above `from` up to `to` (0 when `to` is not above it), without the
// overflow `to - from` has when the two are far apart.
inline std::uint64_t KeysBetween(std::int64_t from, std::int64_t to) {
  return to > from ? static_cast<std::uint64_t>(to) - static_cast<std::uint64_t>(from) : 0;
}

// The keys from `min_key` (as text; empty for an empty table) to `max_key` split into one equal
// range per session (`sessions` clamped to 1-64; one lane for an empty or tiny key range).
std::vector<CopyLane> SplitLanes(const std::string& min_key, std::int64_t max_key, int sessions);

// The range a lane reads next: its keys up to `hi`, and whether that is the lane's last range.
struct LaneRange {
  std::int64_t hi = 0;
  bool final = false;
  std::int64_t reading = 0;  // the end of the range for the prune: kUnbounded past max_key
};
// `floor` is below the next key that exists (after an empty range); `no_keys`: the table had
// none when the copy began.
LaneRange NextRange(const CopyLane& lane, std::int64_t floor, std::int64_t max_key, bool no_keys);

// A lane's width after a range of `width` keys took `took_seconds` against a target of
// `target_seconds`: scaled by their ratio, at most halved or doubled, within 100 and
// kMaxLaneWidth.
std::int64_t NextWidth(std::int64_t width, double target_seconds, double took_seconds);

// Where the copy goes after an empty range ending at `hi`: below `next_key`, the smallest key
// above `hi` in the lane, or at the lane's end (past max_key for the last lane) when none.
std::int64_t FloorAfterGap(const CopyLane& lane, std::int64_t hi, std::int64_t max_key,
                           const std::optional<std::string>& next_key);

// The condition on the change log's key for the keys past the range each lane is reading
// (`reading`, per lane), up to its end: those no chunk has read or is reading. Appends its
// parameters to `params`; empty when every lane reads to its end.
std::string NotReached(const KeySql& key, const std::vector<CopyLane>& lanes,
                       const std::vector<std::int64_t>& reading, std::vector<pg::Param>& params);

}  // namespace zerodown::engine::shadow
