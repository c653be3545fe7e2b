// The bucketing function of zerodown's feature flags, as pure functions: which of 10,000 buckets a
// user falls in for a flag, and whether a rollout of a given size includes that bucket. It does
// no I/O. The function is FROZEN: applications, proxies and the SQL function
// zerodown.flag_bucket (store.hpp) must agree on every bucket forever, so a change here would move
// users between versions. docs/flags.md spells it out for other languages.
//
//   bytes  = UTF-8 bytes of flag_name + ":" + user_id
//   h      = MurmurHash3_x86_32(bytes, seed 0)          (the reference algorithm, little-endian)
//   bucket = (uint64(h) * 10000) >> 32                  (multiply-shift: 0 .. 9999, no modulo bias)
//   in the rollout of P basis points (0 .. 10000) iff bucket < P
//
// Because a user's bucket does not depend on P, raising P only adds users and lowering it removes
// the most recently added first.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "zerodown/common/error.hpp"

namespace zerodown::flags {

// Buckets per flag: a rollout moves in steps of one bucket, 0.01 %.
inline constexpr int kBuckets = 10000;
// A rollout is a whole number of basis points (hundredths of a percent), 0 .. kFullRollout.
inline constexpr int kFullRollout = kBuckets;

// MurmurHash3 x86_32 of `bytes` (Austin Appleby's reference algorithm; blocks read little-endian
// on every platform).
std::uint32_t Murmur3X86_32(std::string_view bytes, std::uint32_t seed = 0);

// The bucket, 0 .. kBuckets - 1, of a 32-bit hash: (h * kBuckets) >> 32.
int BucketOfHash(std::uint32_t hash);

// The bucket of `user_id` for `flag_name`: BucketOfHash(Murmur3X86_32(flag + ":" + user)).
// Both strings are taken as their bytes, which must be UTF-8 to agree with the SQL function.
int Bucket(std::string_view flag_name, std::string_view user_id);

// Whether `bucket` is inside a rollout of `basis_points` (bucket < basis_points).
constexpr bool InRollout(int bucket, int basis_points) { return bucket < basis_points; }

// Parses a rollout percentage: "10%", "10", "0.25%", "100%", with at most two decimals, into
// basis points (10% -> 1000). Returns kUsage naming the text and the accepted forms for anything
// else: not a number, below 0 or above 100, or finer than 0.01%.
Result<int> ParseRollout(std::string_view text);

// "10%", "0.25%", "100%": basis points as a percentage, without trailing zeros.
std::string FormatRollout(int basis_points);

}  // namespace zerodown::flags
