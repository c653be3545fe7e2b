// The frozen bucketing function: MurmurHash3 x86_32 against the reference's known answers, the
// multiply-shift mapping, (flag, user) -> bucket values that docs/flags.md quotes, and the
// promise that a rollout only ever grows or shrinks at its edge.
#include "zerodown/flags/bucket.hpp"

#include <gtest/gtest.h>

#include <array>
#include <cstdint>
#include <string>
#include <vector>

namespace zerodown::flags {
namespace {

struct HashVector {
  std::string key;
  std::uint32_t seed;
  std::uint32_t hash;
};

// Answers of Austin Appleby's MurmurHash3_x86_32 (SMHasher), as other implementations quote them.
TEST(Murmur3, ReferenceVectors) {
  const std::vector<HashVector> vectors = {
      {"", 0, 0x00000000},
      {"", 1, 0x514E28B7},
      {"", 0xffffffff, 0x81F16F39},
      {std::string(4, '\0'), 0, 0x2362F9DE},
      {"a", 0x9747b28c, 0x7FA09EA6},
      {"ab", 0x9747b28c, 0x74875592},
      {"abc", 0x9747b28c, 0xC84A62DD},
      {"abcd", 0x9747b28c, 0xF0478627},
      {"aaaa", 0x9747b28c, 0x5A97808A},
      {"Hello, world!", 0x9747b28c, 0x24884CBA},
      {"The quick brown fox jumps over the lazy dog", 0x9747b28c, 0x2FA826CD},
      {"a", 0, 0x3C2569B2},
      {"hello", 0, 0x248BFA47},
      {"Hello, world!", 0, 0xC0363E43},
      {"The quick brown fox jumps over the lazy dog", 0, 0x2E4FF723},
  };
  for (const auto& v : vectors) {
    EXPECT_EQ(Murmur3X86_32(v.key, v.seed), v.hash) << '"' << v.key << "\" seed " << v.seed;
  }
}

// SMHasher's VerificationTest: hash keys {}, {0}, {0,1}, … {0..254} with seed 256 - length, then
// hash the 256 little-endian results with seed 0. The reference states 0xB0F57EE3.
TEST(Murmur3, SmhasherVerificationValue) {
  std::array<char, 256> key{};
  std::string hashes;
  for (int i = 0; i < 256; ++i) {
    key[i] = static_cast<char>(i);
    std::uint32_t h = Murmur3X86_32(std::string_view(key.data(), i), 256 - i);
    for (int b = 0; b < 4; ++b) hashes.push_back(static_cast<char>((h >> (8 * b)) & 0xff));
  }
  EXPECT_EQ(Murmur3X86_32(hashes, 0), 0xB0F57EE3u);
}

TEST(Bucket, MultiplyShiftCoversTheRangeWithoutModulo) {
  EXPECT_EQ(BucketOfHash(0), 0);
  EXPECT_EQ(BucketOfHash(0xffffffffu), kBuckets - 1);
  EXPECT_EQ(BucketOfHash(0x80000000u), 5000);
  // 429497 * 10000 >> 32 is 0 (the first 429,497 hashes), 429497 * 10000 is just under 2^32.
  EXPECT_EQ(BucketOfHash(429496), 0);
  EXPECT_EQ(BucketOfHash(429497), 1);
  // Modulo would put hash 10000 in bucket 0; multiply-shift keeps the order of the hashes.
  EXPECT_EQ(BucketOfHash(10000), 0);
  EXPECT_EQ(BucketOfHash(0x7fffffffu), 4999);
}

// The values docs/flags.md quotes, so any reimplementation can check itself.
TEST(Bucket, KnownFlagUserBuckets) {
  EXPECT_EQ(Bucket("new_balance", "42"), 2706);
  EXPECT_EQ(Bucket("new_balance", "user123@example.com"), 5091);
  EXPECT_EQ(Bucket("new_balance", "3f2504e0-4f89-11d3-9a0c-0305e82c3301"), 1115);
  EXPECT_EQ(Bucket("checkout_v2", "1"), 3079);
  EXPECT_EQ(Bucket("checkout_v2", "alice"), 2002);
  EXPECT_EQ(Bucket("new_balance", ""), 118);
  EXPECT_EQ(Bucket("café", "josé"), 5085) << "UTF-8 bytes are hashed";
  EXPECT_EQ(Bucket("new_balance", "42"), BucketOfHash(Murmur3X86_32("new_balance:42")))
      << "the hashed text is flag + ':' + user";
}

// Raising a rollout only adds users, and lowering removes the most recently added first: a
// user's bucket does not depend on the percentage, so the set of users in is a prefix of buckets.
TEST(Bucket, RolloutIsMonotonic) {
  std::vector<int> buckets;
  for (int i = 0; i < 20000; ++i) buckets.push_back(Bucket("monotonic", std::to_string(i)));
  std::vector<bool> in_before(buckets.size(), false);
  for (int bp : {0, 1, 25, 100, 1000, 1001, 2500, 5000, 9999, 10000}) {
    for (std::size_t u = 0; u < buckets.size(); ++u) {
      bool in = InRollout(buckets[u], bp);
      EXPECT_TRUE(in || !in_before[u]) << "user " << u << " left when the rollout rose to " << bp;
      in_before[u] = in;
    }
  }
  for (int b : buckets) EXPECT_TRUE(InRollout(b, kFullRollout));
  for (int b : buckets) EXPECT_FALSE(InRollout(b, 0));
}

TEST(Bucket, SharesAreClose) {
  // Rough spread check on sequential ids; the integration test measures it to ±0.1 point.
  int in = 0;
  const int users = 100000;
  for (int i = 0; i < users; ++i) in += InRollout(Bucket("spread", std::to_string(i)), 1000);
  EXPECT_NEAR(in * 100.0 / users, 10.0, 0.3);
}

TEST(Rollout, ParsesPercentages) {
  EXPECT_EQ(*ParseRollout("10%"), 1000);
  EXPECT_EQ(*ParseRollout("10"), 1000);
  EXPECT_EQ(*ParseRollout("0.25%"), 25);
  EXPECT_EQ(*ParseRollout("0.01%"), 1);
  EXPECT_EQ(*ParseRollout("0.5"), 50);
  EXPECT_EQ(*ParseRollout(".5%"), 50);
  EXPECT_EQ(*ParseRollout("0%"), 0);
  EXPECT_EQ(*ParseRollout("100%"), 10000);
  EXPECT_EQ(*ParseRollout("100.00%"), 10000);
  EXPECT_EQ(*ParseRollout("12.340%"), 1234);
}

TEST(Rollout, RejectsBadPercentages) {
  for (const char* bad : {"abc", "101%", "100.01%", "0.001%", "-5%", "", "%", "10%%", "1e2", "5.",
                          "1 0", "99999999"}) {
    auto r = ParseRollout(bad);
    ASSERT_FALSE(r.ok()) << bad;
    EXPECT_EQ(r.error().kind(), ErrorKind::kUsage) << bad;
    EXPECT_NE(r.error().message().find(std::string("\"") + bad + "\""), std::string::npos)
        << r.error().message();
    EXPECT_NE(r.error().fix().find("0.01%"), std::string::npos);
  }
  EXPECT_NE(ParseRollout("0.001%").error().message().find("finer"), std::string::npos);
  EXPECT_NE(ParseRollout("101%").error().message().find("above 100%"), std::string::npos);
}

TEST(Rollout, FormatsBack) {
  EXPECT_EQ(FormatRollout(1000), "10%");
  EXPECT_EQ(FormatRollout(25), "0.25%");
  EXPECT_EQ(FormatRollout(50), "0.5%");
  EXPECT_EQ(FormatRollout(1), "0.01%");
  EXPECT_EQ(FormatRollout(10000), "100%");
  EXPECT_EQ(FormatRollout(0), "0%");
  for (int bp = 0; bp <= kFullRollout; ++bp) ASSERT_EQ(*ParseRollout(FormatRollout(bp)), bp);
}

}  // namespace
}  // namespace zerodown::flags
