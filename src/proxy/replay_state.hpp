// The read-your-writes rule of --read-share (docs/proxy.md, "Read-only transactions on another
// target"), as plain values: the recent samples of the primary's WAL position and of how far the
// read target has replayed it, and the verdict for one client's read. A client that wrote may
// read on the read target only once the target has replayed the primary's position as sampled
// after that write ended; without a recent sample nobody reads there. It does no I/O: the
// samples come from ReadTarget's thread.
#pragma once

#include <chrono>
#include <cstdint>
#include <deque>
#include <optional>
#include <string_view>

#include "proxy/async_util.hpp"

namespace zerodown::proxy {

// "16/B374D848" (pg_lsn's text) as a number; none when it is not one.
std::optional<std::uint64_t> ParseLsn(std::string_view text);

// The insert position pg_current_wal_insert_lsn() reports points past a page header when the
// last record ended exactly at a page's end, where the replayed position stops: the header holds
// no record, so the page's start is the same point in the WAL.
std::uint64_t RecordBoundary(std::uint64_t insert_lsn, std::uint64_t segment_size,
                             std::uint64_t block_size);

struct ReplaySample {
  Clock::time_point started;  // before the primary was asked for its position
  Clock::time_point done;     // when the answers were in
  std::uint64_t primary_lsn = 0;
  std::optional<std::uint64_t> replayed;  // the read target's position in the primary's WAL
};

// What one client's writes oblige: the end of its last write transaction, until a sample taken
// after it names the primary position the read target must reach (`must_see`).
struct WriterMark {
  std::optional<Clock::time_point> wrote_at;
  std::uint64_t must_see = 0;
  bool clean() const { return !wrote_at && must_see == 0; }
};

enum class ReplayVerdict {
  kReadTarget,      // the target is known and has everything this client wrote
  kReadYourWrites,  // it has not replayed this client's last write yet
  kLagUnknown,      // no recent sample with a known position: nobody reads there
};

class ReplayState {
 public:
  // A sample is recent for this long after it was taken.
  static constexpr std::chrono::milliseconds kFresh{1000};
  // Samples kept for clients that wrote: at one every 20 ms, about 5 s.
  static constexpr std::size_t kKept = 256;

  // A sample whose primary position is known (the poller's order: started goes up).
  void Add(const ReplaySample& sample);
  // The poller could not reach the primary or learn the target's position.
  void Unknown() { latest_known_ = false; }
  // Whether the read target's position is known from a sample taken within kFresh of `now`.
  bool Fresh(Clock::time_point now) const;
  // The verdict for a read of the client with `mark`, resolving its write into a position once a
  // sample taken after it exists, and forgetting it once the target has it.
  ReplayVerdict Judge(WriterMark& mark, Clock::time_point now) const;
  // Bytes between the primary's position and the target's in the latest sample; none if unknown.
  std::optional<std::int64_t> lag_bytes() const;
  // Milliseconds since the latest sample was taken; none before the first.
  std::optional<std::int64_t> age_ms(Clock::time_point now) const;

 private:
  std::deque<ReplaySample> samples_;
  bool latest_known_ = false;
};

}  // namespace zerodown::proxy
