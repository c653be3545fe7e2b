// One bucketing function, three ways, on a real server: the C++ library, `zerodown flag eval` and
// SQL's zerodown.flag_bucket / flag_enabled agree on 1,000,000 ids, and on realistic ids
// (sequential integers, UUIDs, emails with a common prefix) a rollout of 1%, 10% or 50% lets in
// that share of users to within 0.1 percentage point.
#include <fmt/format.h>
#include <gtest/gtest.h>

#include <chrono>
#include <nlohmann/json.hpp>
#include <random>
#include <string>
#include <vector>

#include "support/database.hpp"
#include "zerodown/flags/store.hpp"

namespace zerodown {
namespace {

using testing::RunZerodown;

constexpr int kIdsPerKind = 1'000'000;

std::vector<std::string> SequentialIds(int n) {
  std::vector<std::string> ids;
  ids.reserve(n);
  for (int i = 1; i <= n; ++i) ids.push_back(std::to_string(i));
  return ids;
}

// Version-4 UUIDs from a fixed seed: random-looking, the same on every run.
std::vector<std::string> UuidIds(int n) {
  std::mt19937_64 rng(20261206);
  std::vector<std::string> ids;
  ids.reserve(n);
  for (int i = 0; i < n; ++i) {
    std::uint64_t hi = rng();
    std::uint64_t lo = rng();
    hi = (hi & 0xffffffffffff0fffULL) | 0x0000000000004000ULL;  // version 4
    lo = (lo & 0x3fffffffffffffffULL) | 0x8000000000000000ULL;  // variant 10
    ids.push_back(fmt::format("{:08x}-{:04x}-{:04x}-{:04x}-{:012x}", hi >> 32, (hi >> 16) & 0xffff,
                              hi & 0xffff, lo >> 48, lo & 0xffffffffffffULL));
  }
  return ids;
}

std::vector<std::string> EmailIds(int n) {
  std::vector<std::string> ids;
  ids.reserve(n);
  for (int i = 1; i <= n; ++i) ids.push_back(fmt::format("user{}@example.com", i));
  return ids;
}

// `values` as a PostgreSQL array literal of text (ids hold no quote, backslash or comma).
std::string TextArray(const std::vector<std::string>& values, std::size_t from, std::size_t to) {
  std::string out = "{";
  for (std::size_t i = from; i < to; ++i) {
    if (i > from) out += ',';
    out += '"' + values[i] + '"';
  }
  return out + "}";
}

flags::FlagUpdate RolloutOf(int basis_points) {
  flags::FlagUpdate update;
  update.enabled = true;
  update.rollout_bp = basis_points;
  return update;
}

TEST(FlagsBucketAgreesEverywhere, RolloutSharesAreWithinATenthOfAPoint) {
  struct Kind {
    const char* name;
    std::vector<std::string> ids;
  };
  std::vector<Kind> kinds = {{"sequential integers", SequentialIds(kIdsPerKind)},
                             {"UUIDs", UuidIds(kIdsPerKind)},
                             {"emails", EmailIds(kIdsPerKind)}};
  for (const auto& kind : kinds) {
    for (int bp : {100, 1000, 5000}) {
      int in = 0;
      for (const auto& id : kind.ids) in += flags::InRollout(flags::Bucket("new_balance", id), bp);
      double share = 100.0 * in / static_cast<double>(kind.ids.size());
      EXPECT_NEAR(share, bp / 100.0, 0.1) << kind.name << " at " << flags::FormatRollout(bp);
      std::cout << fmt::format("{} at {}: {:.3f}%\n", kind.name, flags::FormatRollout(bp), share);
    }
  }
}

// 1,000,000 ids (a third of each kind), compared in one SQL statement over the unnested arrays
// of ids and of the C++ library's buckets; flag_enabled at a 10% rollout the same way.
TEST(FlagsBucketAgreesEverywhere, SqlAndCppAgreeOnAMillionIds) {
  std::string db = testing::FreshDatabase();
  pg::Connection conn = testing::Connect(db);
  ASSERT_TRUE(flags::Set(conn, "new_balance", RolloutOf(1000), "test").ok());
  std::vector<std::string> ids;
  for (auto&& part : {SequentialIds(333'334), UuidIds(333'333), EmailIds(333'333)}) {
    ids.insert(ids.end(), part.begin(), part.end());
  }
  ASSERT_EQ(ids.size(), 1'000'000u);
  std::string buckets = "{";
  std::string enabled = "{";
  long long bucket_sum = 0;
  for (std::size_t i = 0; i < ids.size(); ++i) {
    int b = flags::Bucket("new_balance", ids[i]);
    bucket_sum += b;
    buckets += (i ? "," : "") + std::to_string(b);
    enabled += (i ? "," : "") + std::string(flags::InRollout(b, 1000) ? "t" : "f");
  }
  buckets += "}";
  enabled += "}";
  auto start = std::chrono::steady_clock::now();
  pg::Rows rows = conn.Exec(
      "SELECT count(*), count(*) FILTER (WHERE b <> cpp), sum(b), "
      "count(*) FILTER (WHERE (b < 1000) <> on_cpp) "
      "FROM (SELECT zerodown.flag_bucket('new_balance', id) AS b, cpp, on_cpp "
      "FROM unnest($1::text[], $2::int[], $3::bool[]) AS u(id, cpp, on_cpp)) s",
      {TextArray(ids, 0, ids.size()), buckets, enabled});
  double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  std::cout << fmt::format("zerodown.flag_bucket on 1,000,000 ids: {:.1f} s\n", seconds);
  EXPECT_EQ(rows.Int(0, 0), 1'000'000);
  EXPECT_EQ(rows.Int(0, 1), 0) << "ids whose SQL bucket differs from the C++ one";
  EXPECT_EQ(rows.Int(0, 2), bucket_sum);
  EXPECT_EQ(rows.Int(0, 3), 0);
  // flag_enabled reads the flag row: the same answers as flags::Enabled on a 100,000-id sample.
  pg::Rows enabled_rows = conn.Exec(
      "SELECT count(*) FILTER (WHERE zerodown.flag_enabled('new_balance', id) <> on_cpp), "
      "count(*) FILTER (WHERE on_cpp) FROM unnest($1::text[], $2::bool[]) AS u(id, on_cpp)",
      {TextArray(ids, 0, 100'000), enabled.substr(0, 2 * 100'000) + "}"});
  EXPECT_EQ(enabled_rows.Int(0, 0), 0) << "ids flag_enabled answers differently from C++";
  EXPECT_GT(enabled_rows.Int(0, 1), 9'000);
}

TEST(FlagsBucketAgreesEverywhere, CliEvalAgreesOnASample) {
  std::string db = testing::FreshDatabase();
  pg::Connection conn = testing::Connect(db);
  ASSERT_TRUE(flags::Set(conn, "checkout_v2", RolloutOf(5000), "test").ok());
  std::vector<std::string> sample;
  for (auto&& part : {SequentialIds(20), UuidIds(20), EmailIds(20)}) {
    sample.insert(sample.end(), part.begin(), part.end());
  }
  sample.push_back("josé");
  int on = 0;
  for (const auto& id : sample) {
    std::string out;
    ASSERT_EQ(RunZerodown(fmt::format("--postgres-url {} --json flag eval checkout_v2 {}",
                                      testing::Quoted(db), testing::Quoted(id)),
                          &out),
              0)
        << out;
    nlohmann::json json = nlohmann::json::parse(out);
    int bucket = flags::Bucket("checkout_v2", id);
    EXPECT_EQ(json["bucket"].get<int>(), bucket) << id;
    EXPECT_EQ(json["enabled"].get<bool>(), bucket < 5000) << id;
    pg::Rows sql = conn.Exec(
        "SELECT zerodown.flag_bucket('checkout_v2', $1), zerodown.flag_enabled('checkout_v2', $1)",
        {id});
    EXPECT_EQ(sql.Int(0, 0), bucket) << id;
    EXPECT_EQ(sql.Bool(0, 1), bucket < 5000) << id;
    on += bucket < 5000;
  }
  EXPECT_GT(on, 0);
  EXPECT_LT(on, static_cast<int>(sample.size()));
  std::string out;
  ASSERT_EQ(
      RunZerodown(fmt::format("--postgres-url {} flag eval checkout_v2 alice", testing::Quoted(db)),
                  &out),
      0);
  EXPECT_NE(out.find("bucket 2002 of 10000: on"), std::string::npos) << out;
}

// The hash itself from SQL: the reference's answers, and the empty and three-byte tails.
TEST(FlagsBucketAgreesEverywhere, SqlHashMatchesTheReference) {
  std::string db = testing::FreshDatabase();
  pg::Connection conn = testing::Connect(db);
  flags::Install(conn);
  pg::Rows rows = conn.Exec(
      "SELECT zerodown.murmur3_32(''::bytea, 1), zerodown.murmur3_32(''::bytea, 4294967295), "
      "zerodown.murmur3_32(convert_to('The quick brown fox jumps over the lazy dog', 'UTF8'), "
      "2538058380), zerodown.murmur3_32(convert_to('Hello, world!', 'UTF8')), "
      "zerodown.murmur3_32('\\x00000000'::bytea), zerodown.flag_bucket('café', 'josé')");
  EXPECT_EQ(rows.Int(0, 0), 0x514E28B7);
  EXPECT_EQ(rows.Int(0, 1), 0x81F16F39);
  EXPECT_EQ(rows.Int(0, 2), 0x2FA826CD);
  EXPECT_EQ(rows.Int(0, 3), 0xC0363E43);
  EXPECT_EQ(rows.Int(0, 4), 0x2362F9DE);
  EXPECT_EQ(rows.Int(0, 5), 5085);
}

}  // namespace
}  // namespace zerodown
