#include "proxy/replay_state.hpp"

#include <charconv>

namespace zerodown::proxy {
namespace {

// XLOG page headers on 64-bit builds: MAXALIGN(sizeof(XLogLongPageHeaderData)) at a segment's
// first page, MAXALIGN(sizeof(XLogPageHeaderData)) at the others.
constexpr std::uint64_t kLongHeader = 40;
constexpr std::uint64_t kShortHeader = 24;

}  // namespace

std::optional<std::uint64_t> ParseLsn(std::string_view text) {
  auto slash = text.find('/');
  if (slash == std::string_view::npos || slash == 0 || slash + 1 == text.size()) return {};
  std::uint32_t high = 0;
  std::uint32_t low = 0;
  auto [p1, e1] = std::from_chars(text.data(), text.data() + slash, high, 16);
  auto [p2, e2] = std::from_chars(text.data() + slash + 1, text.data() + text.size(), low, 16);
  if (e1 != std::errc() || e2 != std::errc() || p1 != text.data() + slash ||
      p2 != text.data() + text.size()) {
    return {};
  }
  return (static_cast<std::uint64_t>(high) << 32) | low;
}

std::uint64_t RecordBoundary(std::uint64_t insert_lsn, std::uint64_t segment_size,
                             std::uint64_t block_size) {
  if (segment_size > 0 && insert_lsn % segment_size == kLongHeader) return insert_lsn - kLongHeader;
  if (block_size > 0 && insert_lsn % block_size == kShortHeader) return insert_lsn - kShortHeader;
  return insert_lsn;
}

void ReplayState::Add(const ReplaySample& sample) {
  samples_.push_back(sample);
  if (samples_.size() > kKept) samples_.pop_front();
  latest_known_ = sample.replayed.has_value();
}

bool ReplayState::Fresh(Clock::time_point now) const {
  return latest_known_ && !samples_.empty() && now - samples_.back().started <= kFresh;
}

ReplayVerdict ReplayState::Judge(WriterMark& mark, Clock::time_point now) const {
  if (!Fresh(now)) return ReplayVerdict::kLagUnknown;
  if (mark.wrote_at) {
    // The first sample asked after the write ended: its position includes the write's commit.
    // When the samples of that time are gone, the oldest kept one is later still, so it does too.
    const ReplaySample* after = nullptr;
    for (const auto& sample : samples_) {
      if (sample.started > *mark.wrote_at) {
        after = &sample;
        break;
      }
    }
    if (after == nullptr) return ReplayVerdict::kReadYourWrites;
    mark.must_see = std::max(mark.must_see, after->primary_lsn);
    mark.wrote_at.reset();
  }
  if (mark.must_see > *samples_.back().replayed) return ReplayVerdict::kReadYourWrites;
  mark.must_see = 0;
  return ReplayVerdict::kReadTarget;
}

std::optional<std::int64_t> ReplayState::lag_bytes() const {
  if (!latest_known_ || samples_.empty()) return std::nullopt;
  const ReplaySample& last = samples_.back();
  // A standby asked before the primary may be a little ahead of the primary's answer.
  if (*last.replayed >= last.primary_lsn) return 0;
  return static_cast<std::int64_t>(last.primary_lsn - *last.replayed);
}

std::optional<std::int64_t> ReplayState::age_ms(Clock::time_point now) const {
  if (samples_.empty()) return std::nullopt;
  return std::chrono::duration_cast<std::chrono::milliseconds>(now - samples_.back().started)
      .count();
}

}  // namespace zerodown::proxy
