#include "engine/shadow/lanes.hpp"

#include <algorithm>

namespace zerodown::engine::shadow {

nlohmann::json CopyLane::ToJson() const {
  return {{"last", last},
          {"end", end ? nlohmann::json(*end) : nlohmann::json()},
          {"width", width},
          {"done", done},
          {"from_last", from_last}};
}

CopyLane CopyLane::FromJson(const nlohmann::json& json) {
  CopyLane lane;
  lane.last = json.at("last").get<std::int64_t>();
  if (!json.at("end").is_null()) lane.end = json.at("end").get<std::int64_t>();
  lane.width = json.at("width").get<std::int64_t>();
  lane.done = json.at("done").get<bool>();
  lane.from_last = json.value("from_last", false);
  return lane;
}

std::vector<CopyLane> SplitLanes(const std::string& min_key, std::int64_t max_key, int sessions) {
  std::vector<CopyLane> lanes;
  std::int64_t start = min_key.empty() ? 0 : std::stoll(min_key);
  // Unsigned: the span between two 64-bit keys may not fit in a signed 64-bit integer.
  std::uint64_t span = static_cast<std::uint64_t>(max_key) - static_cast<std::uint64_t>(start);
  std::uint64_t n = std::clamp(sessions, 1, 64);
  if (min_key.empty() || span < n) n = 1;
  auto boundary = [&](std::uint64_t i) {
    return static_cast<std::int64_t>(static_cast<std::uint64_t>(start) + span / n * i);
  };
  for (std::uint64_t i = 0; i < n; ++i) {
    CopyLane lane;
    lane.last = boundary(i);
    lane.from_last = i == 0 && !min_key.empty();
    if (i + 1 < n) lane.end = boundary(i + 1);
    lanes.push_back(lane);
  }
  return lanes;
}

LaneRange NextRange(const CopyLane& lane, std::int64_t floor, std::int64_t max_key, bool no_keys) {
  LaneRange range;
  std::int64_t end = lane.end.value_or(max_key);
  std::int64_t from = std::max(lane.last, floor);
  range.final =
      (!lane.end && no_keys) || KeysBetween(from, end) <= static_cast<std::uint64_t>(lane.width);
  range.hi = range.final ? end : from + lane.width;
  range.reading = range.final && !lane.end ? kUnbounded : range.hi;
  return range;
}

std::int64_t NextWidth(std::int64_t width, double target_seconds, double took_seconds) {
  double factor = std::clamp(target_seconds / took_seconds, 0.5, 2.0);
  return static_cast<std::int64_t>(
      std::clamp(static_cast<double>(width) * factor, 100.0, static_cast<double>(kMaxLaneWidth)));
}

std::int64_t FloorAfterGap(const CopyLane& lane, std::int64_t hi, std::int64_t max_key,
                           const std::optional<std::string>& next_key) {
  return next_key ? std::stoll(*next_key) - 1 : lane.end.value_or(std::max(hi, max_key));
}

std::string NotReached(const KeySql& key, const std::vector<CopyLane>& lanes,
                       const std::vector<std::int64_t>& reading, std::vector<pg::Param>& params) {
  std::string not_reached;
  for (std::size_t i = 0; i < lanes.size(); ++i) {
    if (reading[i] == kUnbounded || (lanes[i].end && reading[i] >= *lanes[i].end)) continue;
    params.emplace_back(std::to_string(reading[i]));
    std::string beyond = key.Compare(">", params.size());
    if (lanes[i].end) {
      params.emplace_back(std::to_string(*lanes[i].end));
      beyond += " AND " + key.Compare("<=", params.size());
    }
    not_reached += (not_reached.empty() ? "" : " OR ") + ("(" + beyond + ")");
  }
  return not_reached;
}

}  // namespace zerodown::engine::shadow
