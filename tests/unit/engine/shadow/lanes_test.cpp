// The integer-key copy's key-range arithmetic: lanes that cover every key exactly once, whatever
// the keys' spread (up to the whole 64-bit space), ranges that end where their lane ends, widths
// that follow the chunk time, and the prune condition for the keys no lane has reached.
#include "engine/shadow/lanes.hpp"

#include <gtest/gtest.h>

#include <limits>

namespace zerodown::engine::shadow {
namespace {

constexpr std::int64_t kMin = std::numeric_limits<std::int64_t>::min();
constexpr std::int64_t kMax = std::numeric_limits<std::int64_t>::max();

KeySql IdKey() {
  KeySql key;
  key.names = {"\"id\""};
  key.types = {"bigint"};
  key.list = "\"id\"";
  return key;
}

TEST(SplitLanesTest, AnEmptyTableIsOneOpenLane) {
  std::vector<CopyLane> lanes = SplitLanes("", 0, 4);
  ASSERT_EQ(lanes.size(), 1u);
  EXPECT_EQ(lanes[0].last, 0);
  EXPECT_FALSE(lanes[0].end.has_value());
  EXPECT_FALSE(lanes[0].from_last);
}

TEST(SplitLanesTest, LanesMeetWithoutOverlapAndTheFirstTakesTheSmallestKey) {
  std::vector<CopyLane> lanes = SplitLanes("1", 1000, 2);
  ASSERT_EQ(lanes.size(), 2u);
  EXPECT_EQ(lanes[0].last, 1);
  EXPECT_TRUE(lanes[0].from_last);  // [1, 500]: key 1 itself is copied
  ASSERT_TRUE(lanes[0].end.has_value());
  EXPECT_EQ(*lanes[0].end, 500);
  EXPECT_EQ(lanes[1].last, 500);  // (500, …): the next lane starts above the first's end
  EXPECT_FALSE(lanes[1].from_last);
  EXPECT_FALSE(lanes[1].end.has_value());  // the last lane takes keys inserted past max
}

TEST(SplitLanesTest, ATinyKeyRangeIsOneLane) {
  EXPECT_EQ(SplitLanes("5", 6, 4).size(), 1u);
  EXPECT_EQ(SplitLanes("5", 5, 2).size(), 1u);
}

TEST(SplitLanesTest, SessionsAreClampedToOneThroughSixtyFour) {
  EXPECT_EQ(SplitLanes("0", 1000000, 1000).size(), 64u);
  EXPECT_EQ(SplitLanes("0", 1000000, 0).size(), 1u);
  EXPECT_EQ(SplitLanes("0", 1000000, -3).size(), 1u);
}

TEST(SplitLanesTest, TheWholeSixtyFourBitSpaceSplitsWithoutOverflow) {
  std::vector<CopyLane> lanes = SplitLanes(std::to_string(kMin), kMax, 2);
  ASSERT_EQ(lanes.size(), 2u);
  EXPECT_EQ(lanes[0].last, kMin);
  EXPECT_TRUE(lanes[0].from_last);
  ASSERT_TRUE(lanes[0].end.has_value());
  EXPECT_EQ(*lanes[0].end, -1);
  EXPECT_EQ(lanes[1].last, -1);
}

TEST(CopyLaneTest, SurvivesItsCheckpoint) {
  CopyLane lane;
  lane.last = -42;
  lane.end = 9000;
  lane.width = 123456;
  lane.done = true;
  lane.from_last = true;
  CopyLane back = CopyLane::FromJson(nlohmann::json::parse(lane.ToJson().dump()));
  EXPECT_EQ(back.last, -42);
  EXPECT_EQ(back.end, std::optional<std::int64_t>(9000));
  EXPECT_EQ(back.width, 123456);
  EXPECT_TRUE(back.done);
  EXPECT_TRUE(back.from_last);
}

TEST(CopyLaneTest, ReadsACheckpointWithoutFromLastOrEnd) {
  CopyLane lane = CopyLane::FromJson(
      nlohmann::json{{"last", 7}, {"end", nullptr}, {"width", 100}, {"done", false}});
  EXPECT_EQ(lane.last, 7);
  EXPECT_FALSE(lane.end.has_value());
  EXPECT_FALSE(lane.from_last);
}

TEST(NextRangeTest, ARangeIsTheLanesWidthAboveWhereItIs) {
  CopyLane lane;
  lane.last = 0;
  lane.end = 1000;
  lane.width = 100;
  LaneRange range = NextRange(lane, lane.last, 5000, false);
  EXPECT_EQ(range.hi, 100);
  EXPECT_FALSE(range.final);
  EXPECT_EQ(range.reading, 100);
}

TEST(NextRangeTest, TheLastRangeOfABoundedLaneEndsAtItsEnd) {
  CopyLane lane;
  lane.last = 950;
  lane.end = 1000;
  lane.width = 100;
  LaneRange range = NextRange(lane, lane.last, 5000, false);
  EXPECT_EQ(range.hi, 1000);
  EXPECT_TRUE(range.final);
  EXPECT_EQ(range.reading, 1000);
}

TEST(NextRangeTest, TheLastLaneReadsToTheEndOfTheKeySpace) {
  CopyLane lane;
  lane.last = 950;
  lane.width = 100;
  LaneRange range = NextRange(lane, lane.last, 1000, false);
  EXPECT_TRUE(range.final);
  EXPECT_EQ(range.hi, 1000);
  EXPECT_EQ(range.reading, kUnbounded);
  EXPECT_TRUE(NextRange(CopyLane{}, 0, 0, /*no_keys=*/true).final);
}

TEST(NextRangeTest, AGapIsSkippedFromTheFloor) {
  CopyLane lane;
  lane.last = 0;
  lane.width = 100;
  LaneRange range = NextRange(lane, 5000, 100000, false);
  EXPECT_EQ(range.hi, 5100);
  EXPECT_FALSE(range.final);
}

TEST(NextRangeTest, KeysFarApartDoNotOverflow) {
  CopyLane lane;
  lane.last = kMin;
  lane.width = kMaxLaneWidth;
  LaneRange range = NextRange(lane, kMin, kMax, false);
  EXPECT_FALSE(range.final);
  EXPECT_EQ(range.hi, kMin + kMaxLaneWidth);
  EXPECT_EQ(KeysBetween(kMin, kMax), std::numeric_limits<std::uint64_t>::max());
  EXPECT_EQ(KeysBetween(10, 3), 0u);
}

TEST(NextWidthTest, FollowsTheChunkTimeAtMostHalvedOrDoubled) {
  EXPECT_EQ(NextWidth(1000, 1.0, 0.5), 2000);
  EXPECT_EQ(NextWidth(1000, 1.0, 0.01), 2000);
  EXPECT_EQ(NextWidth(1000, 1.0, 10.0), 500);
  EXPECT_EQ(NextWidth(1000, 1.0, 1.25), 800);
  EXPECT_EQ(NextWidth(150, 1.0, 10.0), 100);
  EXPECT_EQ(NextWidth(kMaxLaneWidth, 1.0, 0.1), kMaxLaneWidth);
}

TEST(FloorAfterGapTest, GoesBelowTheNextKeyOrToTheLanesEnd) {
  CopyLane bounded;
  bounded.end = 900;
  EXPECT_EQ(FloorAfterGap(bounded, 100, 5000, std::string("42")), 41);
  EXPECT_EQ(FloorAfterGap(bounded, 100, 5000, std::nullopt), 900);
  CopyLane open;
  EXPECT_EQ(FloorAfterGap(open, 100, 5000, std::nullopt), 5000);
  EXPECT_EQ(FloorAfterGap(open, 7000, 5000, std::nullopt), 7000);
}

TEST(NotReachedTest, NamesTheKeysPastEachLanesRangeUpToItsEnd) {
  std::vector<CopyLane> lanes(2);
  lanes[0].end = 500;
  std::vector<std::int64_t> reading = {100, 600};
  std::vector<pg::Param> params;
  std::string sql = NotReached(IdKey(), lanes, reading, params);
  EXPECT_EQ(sql,
            "((\"id\") > ($1::bigint) AND (\"id\") <= ($2::bigint)) OR ((\"id\") > ($3::bigint))");
  ASSERT_EQ(params.size(), 3u);
  EXPECT_EQ(params[0].value_or(""), "100");
  EXPECT_EQ(params[1].value_or(""), "500");
  EXPECT_EQ(params[2].value_or(""), "600");
}

TEST(NotReachedTest, LanesReadingToTheirEndAreLeftOut) {
  std::vector<CopyLane> lanes(2);
  lanes[0].end = 500;
  std::vector<pg::Param> params = {std::string("earlier")};
  EXPECT_EQ(NotReached(IdKey(), lanes, {500, kUnbounded}, params), "");
  EXPECT_EQ(params.size(), 1u);
  std::string sql = NotReached(IdKey(), lanes, {500, 10}, params);
  EXPECT_EQ(sql, "((\"id\") > ($2::bigint))");  // numbered after the caller's parameters
}

}  // namespace
}  // namespace zerodown::engine::shadow
