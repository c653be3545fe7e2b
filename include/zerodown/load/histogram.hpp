// Latency histograms for the load runner: log-bucketed counts of microsecond values with a
// bounded relative error, mergeable across client threads. It keeps no individual values (memory
// is fixed whatever the number of samples) and is not thread-safe: each thread records into its
// own histogram and the owner merges them. Debian packages no C/C++ HDR histogram (only the Java
// and Go ones), hence this small class in the same spirit.
#pragma once

#include <array>
#include <cstdint>

namespace zerodown::load {

class LatencyHistogram {
 public:
  // Values below 2^kSubBucketBits are counted exactly; above, each power-of-two range is split
  // into 2^(kSubBucketBits-1) equal buckets, so a reported value is within 1/128 of the truth.
  static constexpr int kSubBucketBits = 7;
  // Values at or above 2^kMaxExponent µs (about 12.7 days) land in the last bucket; min and max
  // stay exact.
  static constexpr int kMaxExponent = 40;
  static constexpr int kBucketCount =
      (1 << kSubBucketBits) + (kMaxExponent - kSubBucketBits) * (1 << (kSubBucketBits - 1));

  // Counts one value (microseconds).
  void Record(std::uint64_t micros);
  // Adds every count of `other` to this histogram.
  void Merge(const LatencyHistogram& other);
  // Forgets every value.
  void Reset();

  std::uint64_t count() const { return count_; }
  // Exact smallest and largest values recorded; 0 when empty.
  std::uint64_t min() const { return count_ ? min_ : 0; }
  std::uint64_t max() const { return max_; }
  // The nearest-rank percentile (`percent` in 0..100): the value v such that at least `percent`%
  // of the recorded values are <= v, within the bucket's relative error and clamped to [min, max].
  // 0 when empty.
  std::uint64_t Percentile(double percent) const;
  // Number of recorded values strictly above `micros`, exact at bucket boundaries and an estimate
  // inside a bucket (callers needing an exact count keep their own counter).
  std::uint64_t CountAbove(std::uint64_t micros) const;

  // The bucket a value falls in, and the smallest and largest values of a bucket (for tests).
  static int BucketOf(std::uint64_t micros);
  static std::uint64_t BucketLow(int bucket);
  static std::uint64_t BucketHigh(int bucket);

 private:
  std::array<std::uint64_t, kBucketCount> buckets_{};
  std::uint64_t count_ = 0;
  std::uint64_t min_ = ~std::uint64_t{0};
  std::uint64_t max_ = 0;
};

}  // namespace zerodown::load
