#include "zerodown/load/histogram.hpp"

#include <algorithm>
#include <bit>
#include <cmath>

namespace zerodown::load {
namespace {

constexpr std::uint64_t kExact = std::uint64_t{1} << LatencyHistogram::kSubBucketBits;
constexpr int kHalfBits = LatencyHistogram::kSubBucketBits - 1;
constexpr std::uint64_t kHalf = std::uint64_t{1} << kHalfBits;

}  // namespace

int LatencyHistogram::BucketOf(std::uint64_t micros) {
  if (micros < kExact) return static_cast<int>(micros);
  int exponent = std::bit_width(micros) - 1;  // micros is in [2^exponent, 2^(exponent+1))
  if (exponent >= kMaxExponent) return kBucketCount - 1;
  int shift = exponent - kHalfBits;
  std::uint64_t top = micros >> shift;  // in [kHalf, 2*kHalf)
  return static_cast<int>(kExact + (exponent - kSubBucketBits) * kHalf + (top - kHalf));
}

std::uint64_t LatencyHistogram::BucketLow(int bucket) {
  if (bucket < static_cast<int>(kExact)) return static_cast<std::uint64_t>(bucket);
  int offset = bucket - static_cast<int>(kExact);
  int exponent = kSubBucketBits + offset / static_cast<int>(kHalf);
  std::uint64_t top = kHalf + static_cast<std::uint64_t>(offset) % kHalf;
  return top << (exponent - kHalfBits);
}

std::uint64_t LatencyHistogram::BucketHigh(int bucket) {
  if (bucket == kBucketCount - 1) return ~std::uint64_t{0};
  return BucketLow(bucket + 1) - 1;
}

void LatencyHistogram::Record(std::uint64_t micros) {
  ++buckets_[BucketOf(micros)];
  ++count_;
  min_ = std::min(min_, micros);
  max_ = std::max(max_, micros);
}

void LatencyHistogram::Merge(const LatencyHistogram& other) {
  if (other.count_ == 0) return;
  for (int i = 0; i < kBucketCount; ++i) buckets_[i] += other.buckets_[i];
  count_ += other.count_;
  min_ = std::min(min_, other.min_);
  max_ = std::max(max_, other.max_);
}

void LatencyHistogram::Reset() { *this = LatencyHistogram(); }

std::uint64_t LatencyHistogram::Percentile(double percent) const {
  if (count_ == 0) return 0;
  percent = std::clamp(percent, 0.0, 100.0);
  auto rank = static_cast<std::uint64_t>(std::ceil(percent / 100.0 * static_cast<double>(count_)));
  rank = std::clamp<std::uint64_t>(rank, 1, count_);
  // The extremes are known exactly; only ranks in between need a bucket.
  if (rank == count_) return max_;
  if (rank == 1) return min();
  std::uint64_t seen = 0;
  for (int i = 0; i < kBucketCount; ++i) {
    seen += buckets_[i];
    if (seen >= rank) {
      // The middle of the bucket halves the worst-case error; min and max are exact.
      std::uint64_t low = BucketLow(i);
      std::uint64_t high = i == kBucketCount - 1 ? max_ : BucketHigh(i);
      return std::clamp(low + (high - low) / 2, min(), max_);
    }
  }
  return max_;
}

std::uint64_t LatencyHistogram::CountAbove(std::uint64_t micros) const {
  std::uint64_t above = 0;
  for (int i = BucketOf(micros) + 1; i < kBucketCount; ++i) above += buckets_[i];
  return above;
}

}  // namespace zerodown::load
