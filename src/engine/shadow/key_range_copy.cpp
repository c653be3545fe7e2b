#include "engine/shadow/key_range_copy.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <exception>
#include <future>

#include "engine/crash_point.hpp"
#include "engine/shadow/copier.hpp"

namespace zerodown::engine::shadow {

void KeyRangeCopy::Run() {
  if (!ctx_.checkpoint.contains("key_bounds")) {
    pg::Rows bounds = ctx_.conn.Exec(fmt::format("SELECT min({k})::text, max({k})::text FROM {}",
                                                 ctx_.live, fmt::arg("k", ctx_.key.list)));
    ctx_.checkpoint["key_bounds"] = {bounds.Optional(0, 0).value_or(""),
                                     bounds.Optional(0, 1).value_or("")};
  }
  // Made here, not in the sessions: a connection is not used from two threads at once.
  alias_ = ctx_.conn.Ident(ctx_.spec.table);
  min_key_ = ctx_.checkpoint["key_bounds"][0].get<std::string>();
  max_key_ = min_key_.empty() ? 0 : std::stoll(ctx_.checkpoint["key_bounds"][1].get<std::string>());
  lanes_ = Lanes();
  std::size_t unfinished =
      std::count_if(lanes_.begin(), lanes_.end(), [](const CopyLane& l) { return !l.done; });
  std::vector<pg::Connection>& helpers = sessions_.Get(
      static_cast<int>(std::min<std::size_t>(ctx_.options.copy_sessions, unfinished)), "copying");
  std::size_t sessions =
      std::min({helpers.size() + 1, std::max<std::size_t>(unfinished, 1),
                static_cast<std::size_t>(std::max(ctx_.options.copy_sessions, 1))});

  done_at_start_ = ctx_.checkpoint.value("rows_done", std::int64_t{0});
  total_ = ctx_.checkpoint.value("rows_total", std::int64_t{0});
  started_ = Clock::now();
  for (const auto& lane : lanes_) reading_.push_back(lane.done ? kUnbounded : lane.last);

  std::vector<std::future<void>> others;
  for (std::size_t s = 1; s < sessions; ++s) {
    others.push_back(std::async(std::launch::async, &KeyRangeCopy::RunSession, this,
                                std::ref(helpers[s - 1]), s, sessions));
  }
  std::exception_ptr failure;
  try {
    RunSession(ctx_.conn, 0, sessions);
  } catch (...) {
    failure = std::current_exception();
  }
  // Every session is waited for before anything it uses goes out of scope.
  for (auto& other : others) {
    try {
      other.get();
    } catch (...) {
      if (!failure) failure = std::current_exception();
    }
  }
  if (failure) std::rethrow_exception(failure);
  ctx_.report.copy_seconds = SecondsSince(started_);
}

std::vector<CopyLane> KeyRangeCopy::Lanes() {
  std::vector<CopyLane> lanes;
  if (ctx_.checkpoint.contains("lanes")) {
    for (const auto& l : ctx_.checkpoint["lanes"]) lanes.push_back(CopyLane::FromJson(l));
    return lanes;
  }
  if (ctx_.checkpoint.contains("last_key")) {
    CopyLane lane;
    lane.last = std::stoll(ctx_.checkpoint["last_key"][0].get<std::string>());
    lane.width = ctx_.checkpoint.value("range_width", lane.width);
    lanes.push_back(lane);
  } else {
    lanes = SplitLanes(min_key_, max_key_, ctx_.options.copy_sessions);
  }
  ctx_.checkpoint.erase("last_key");
  ctx_.checkpoint.erase("range_width");
  ctx_.checkpoint["lanes"] = nlohmann::json::array();
  for (const auto& lane : lanes) ctx_.checkpoint["lanes"].push_back(lane.ToJson());
  return lanes;
}

void KeyRangeCopy::RunSession(pg::Connection& c, std::size_t s, std::size_t sessions) {
  try {
    for (std::size_t i = s; i < lanes_.size(); i += sessions) CopyLaneOn(c, i);
  } catch (...) {
    std::lock_guard<std::mutex> lock(mutex_);
    stop_ = true;
    throw;
  }
}

void KeyRangeCopy::CopyLaneOn(pg::Connection& c, std::size_t i) {
  CopyLane lane = lanes_[i];
  // Below the next key that exists, after an empty range: the next range starts its width
  // from there, so a gap in the keys costs one range, not one per width.
  std::int64_t floor = lane.last;
  while (!lane.done) {
    std::chrono::milliseconds target{};
    std::optional<LaneRange> range = BeginRange(i, lane, floor, target);
    if (!range) return;
    auto chunk_start = Clock::now();
    pg::Transaction tx(c);
    bool bounded = !range->final || lane.end;
    std::int64_t copied =
        (bounded ? c.Exec(Statement(lane.from_last, true),
                          {std::to_string(lane.last), std::to_string(range->hi)})
                 : c.Exec(Statement(lane.from_last, false), {std::to_string(lane.last)}))
            .Affected();
    std::optional<double> took = EndRange(c, tx, i, lane, *range, copied, chunk_start);
    if (!took) return;
    if (copied == 0 && !range->final) {
      // An empty range says nothing of how dense the keys are: keep the width, skip the gap.
      std::int64_t hi = range->hi;
      std::optional<std::string> next =
          lane.end ? c.Exec(NextKeySql(true), {std::to_string(hi), std::to_string(*lane.end)})
                         .Optional(0, 0)
                   : c.Exec(NextKeySql(false), {std::to_string(hi)}).Optional(0, 0);
      floor = FloorAfterGap(lane, hi, max_key_, next);
      continue;
    }
    lane.width = NextWidth(lane.width, std::chrono::duration<double>(target).count(), *took);
  }
}

std::optional<LaneRange> KeyRangeCopy::BeginRange(std::size_t i, const CopyLane& lane,
                                                  std::int64_t floor,
                                                  std::chrono::milliseconds& target) {
  std::lock_guard<std::mutex> lock(mutex_);
  if (stop_) return std::nullopt;
  if (ctx_.checkpoint.value("rows_done", std::int64_t{0}) > 0) CrashPoint("copy");
  // Under the lock: a throttle's pause holds every session.
  if (ctx_.options.chunks.before_batch) ctx_.options.chunks.before_batch();
  target = ctx_.ChunkTime() * kCopyChunkFactor;
  LaneRange range = NextRange(lane, floor, max_key_, min_key_.empty());
  reading_[i] = range.reading;
  return range;
}

std::optional<double> KeyRangeCopy::EndRange(pg::Connection& c, pg::Transaction& tx, std::size_t i,
                                             CopyLane& lane, const LaneRange& range,
                                             std::int64_t copied, Clock::time_point chunk_start) {
  std::lock_guard<std::mutex> lock(mutex_);
  if (stop_) return std::nullopt;
  CopyLane moved = lane;
  moved.last = range.hi;
  moved.done = range.final;
  moved.from_last = false;
  nlohmann::json next = ctx_.checkpoint.json();
  next["lanes"][i] = moved.ToJson();
  std::int64_t done = next.value("rows_done", std::int64_t{0}) + copied;
  next["rows_done"] = done;
  next["copy_chunks"] = next.value("copy_chunks", std::int64_t{0}) + 1;
  bool all_done = std::all_of(next["lanes"].begin(), next["lanes"].end(),
                              [](const nlohmann::json& l) { return l.value("done", false); });
  if (all_done) SetStage(next, Stage::kIndex);
  total_ = all_done ? done : std::max(total_, done);
  next["rows_total"] = total_;
  ctx_.checkpoint.SaveAs(c, next, total_);
  tx.Commit();
  ctx_.checkpoint.json() = std::move(next);
  lane = moved;
  double took = std::max(SecondsSince(chunk_start), 1e-4);
  if (!all_done) PruneLanes(c);
  ReportCopy(ctx_, started_, done_at_start_, total_,
             static_cast<int>(std::min<std::int64_t>(lane.width, 1 << 30)), took * 1000);
  return took;
}

void KeyRangeCopy::PruneLanes(pg::Connection& c) {
  std::vector<pg::Param> params;
  std::string not_reached = NotReached(ctx_.key, lanes_, reading_, params);
  if (!not_reached.empty()) pruner_.Prune(c, not_reached, params);
}

std::string KeyRangeCopy::Statement(bool from_last, bool bounded) const {
  std::string where = ctx_.key.Compare(from_last ? ">=" : ">", 1);
  if (bounded) where += " AND " + ctx_.key.Compare("<=", 2);
  return fmt::format(
      "INSERT INTO {} ({}) OVERRIDING SYSTEM VALUE SELECT {} FROM (SELECT {} FROM {} WHERE "
      "{}) AS {}",
      ctx_.shadow, sql_.insert_columns, sql_.select_list, sql_.source_list, ctx_.live, where,
      alias_);
}

std::string KeyRangeCopy::NextKeySql(bool bounded) const {
  std::string where = ctx_.key.Compare(">", 1);
  if (bounded) where += " AND " + ctx_.key.Compare("<=", 2);
  return fmt::format("SELECT min({})::text FROM {} WHERE {}", ctx_.key.list, ctx_.live, where);
}

}  // namespace zerodown::engine::shadow
