// The read-your-writes rule of --read-share as values: a client that wrote reads on the read
// target only once it replayed the primary position of a sample asked after the write, and
// nobody reads there without a recent sample.
#include "proxy/replay_state.hpp"

#include <gtest/gtest.h>

namespace zerodown::proxy {
namespace {

using std::chrono::milliseconds;

ReplaySample Sample(Clock::time_point started, std::uint64_t primary,
                    std::optional<std::uint64_t> replayed) {
  return ReplaySample{started, started + milliseconds(1), primary, replayed};
}

TEST(ReplayState, ParsesLsns) {
  EXPECT_EQ(ParseLsn("0/0"), 0u);
  EXPECT_EQ(ParseLsn("16/B374D848"), (0x16ull << 32) | 0xB374D848ull);
  EXPECT_FALSE(ParseLsn("16"));
  EXPECT_FALSE(ParseLsn("x/1"));
  EXPECT_FALSE(ParseLsn("1/"));
  EXPECT_FALSE(ParseLsn("1/2 "));
}

TEST(ReplayState, AnInsertPositionPastAPageHeaderIsThePageStart) {
  constexpr std::uint64_t kSegment = 16 << 20;
  EXPECT_EQ(RecordBoundary(kSegment * 3 + 40, kSegment, 8192), kSegment * 3);
  EXPECT_EQ(RecordBoundary(8192 * 5 + 24, kSegment, 8192), 8192u * 5);
  // Past the header with a record on the page: the position itself.
  EXPECT_EQ(RecordBoundary(8192 * 5 + 40, kSegment, 8192), 8192u * 5 + 40);
  EXPECT_EQ(RecordBoundary(8192 * 5 + 1000, kSegment, 8192), 8192u * 5 + 1000);
}

TEST(ReplayState, NobodyReadsThereWithoutARecentKnownSample) {
  ReplayState state;
  WriterMark clean;
  auto t0 = Clock::now();
  EXPECT_EQ(state.Judge(clean, t0), ReplayVerdict::kLagUnknown);
  state.Add(Sample(t0, 100, 100));
  EXPECT_EQ(state.Judge(clean, t0 + milliseconds(5)), ReplayVerdict::kReadTarget);
  EXPECT_EQ(state.Judge(clean, t0 + milliseconds(1500)), ReplayVerdict::kLagUnknown);
  state.Add(Sample(t0 + milliseconds(20), 120, std::nullopt));  // target not known
  EXPECT_EQ(state.Judge(clean, t0 + milliseconds(25)), ReplayVerdict::kLagUnknown);
  state.Add(Sample(t0 + milliseconds(40), 120, 110));
  EXPECT_EQ(state.Judge(clean, t0 + milliseconds(45)), ReplayVerdict::kReadTarget);
  state.Unknown();
  EXPECT_EQ(state.Judge(clean, t0 + milliseconds(46)), ReplayVerdict::kLagUnknown);
}

TEST(ReplayState, AWriterWaitsForASampleAfterItsWriteAndItsReplay) {
  ReplayState state;
  auto t0 = Clock::now();
  state.Add(Sample(t0, 1000, 1000));
  WriterMark writer{t0 + milliseconds(5), 0};
  // No sample asked after the write yet: even a target that has all it knew may lack it.
  EXPECT_EQ(state.Judge(writer, t0 + milliseconds(6)), ReplayVerdict::kReadYourWrites);
  state.Add(Sample(t0 + milliseconds(20), 1500, 1000));
  EXPECT_EQ(state.Judge(writer, t0 + milliseconds(21)), ReplayVerdict::kReadYourWrites);
  EXPECT_EQ(writer.must_see, 1500u);
  // Later samples name later positions, but the writer needs only its own.
  state.Add(Sample(t0 + milliseconds(40), 2000, 1499));
  EXPECT_EQ(state.Judge(writer, t0 + milliseconds(41)), ReplayVerdict::kReadYourWrites);
  state.Add(Sample(t0 + milliseconds(60), 2500, 1500));
  EXPECT_EQ(state.Judge(writer, t0 + milliseconds(61)), ReplayVerdict::kReadTarget);
  EXPECT_TRUE(writer.clean());
  // A client that never wrote read there all along.
  WriterMark reader;
  EXPECT_EQ(state.Judge(reader, t0 + milliseconds(61)), ReplayVerdict::kReadTarget);
}

TEST(ReplayState, AWriteOlderThanTheKeptSamplesNeedsTheOldestKept) {
  ReplayState state;
  auto t0 = Clock::now();
  WriterMark writer{t0, 0};
  for (std::size_t i = 1; i <= ReplayState::kKept + 10; ++i) {
    state.Add(Sample(t0 + milliseconds(i), 100 + i, 100));
  }
  EXPECT_EQ(state.Judge(writer, t0 + milliseconds(300)), ReplayVerdict::kReadYourWrites);
  EXPECT_EQ(writer.must_see, 100u + 11);  // the oldest sample kept, later than the write
}

TEST(ReplayState, LagIsThePrimaryAheadOfTheTarget) {
  ReplayState state;
  EXPECT_FALSE(state.lag_bytes());
  auto t0 = Clock::now();
  state.Add(Sample(t0, 5000, 4000));
  EXPECT_EQ(state.lag_bytes(), 1000);
  state.Add(Sample(t0, 5000, 5100));  // a standby asked first, then the primary
  EXPECT_EQ(state.lag_bytes(), 0);
  state.Unknown();
  EXPECT_FALSE(state.lag_bytes());
}

}  // namespace
}  // namespace zerodown::proxy
