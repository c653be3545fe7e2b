#include "proxy/flag_watch.hpp"

#include <gtest/gtest.h>

namespace zerodown::proxy {
namespace {

flags::FlagState At(int bp, std::optional<std::string> version = "v_new") {
  return flags::FlagState{true, bp, std::move(version)};
}

TEST(FlagWatch, RoutesExactlyTheUsersTheFlagSays) {
  // docs/flags.md: user 42 is in bucket 2706 of new_balance.
  EXPECT_EQ(RoutedVersion(At(2707), "new_balance", "42"), "v_new");
  EXPECT_EQ(RoutedVersion(At(2706), "new_balance", "42"), std::nullopt);
  EXPECT_EQ(RoutedVersion(At(10000), "new_balance", std::nullopt), std::nullopt);
  EXPECT_EQ(RoutedVersion(std::nullopt, "new_balance", "42"), std::nullopt);
  EXPECT_EQ(RoutedVersion(At(10000, std::nullopt), "new_balance", "42"), std::nullopt);
  flags::FlagState off = At(10000);
  off.enabled = false;
  EXPECT_EQ(RoutedVersion(off, "new_balance", "42"), std::nullopt);
  for (int user = 0; user < 1000; ++user) {
    std::string id = std::to_string(user);
    bool in = flags::Bucket("new_balance", id) < 1000;
    EXPECT_EQ(RoutedVersion(At(1000), "new_balance", id).has_value(), in) << id;
  }
}

TEST(FlagWatch, AMissingVersionKeepsTheLastGoodState) {
  auto verdict = JudgeState("new_balance", At(1000), At(5000, "v_gone"), /*version_exists=*/false);
  EXPECT_FALSE(verdict.apply);
  EXPECT_NE(verdict.log.find("WARNING"), std::string::npos) << verdict.log;
  EXPECT_NE(verdict.log.find("v_gone"), std::string::npos) << verdict.log;
  EXPECT_NE(verdict.log.find("on for 10% of users"), std::string::npos) << verdict.log;
}

TEST(FlagWatch, ChangesApplyAndSameStatesAreQuiet) {
  EXPECT_TRUE(JudgeState("f", At(1000), At(5000), true).apply);
  EXPECT_TRUE(JudgeState("f", At(1000), std::nullopt, true).apply);  // deleted: nobody in
  EXPECT_TRUE(JudgeState("f", At(1000), At(1000, std::nullopt), true).apply);
  auto same = JudgeState("f", At(1000), At(1000), true);
  EXPECT_FALSE(same.apply);
  EXPECT_TRUE(same.log.empty());
}

}  // namespace
}  // namespace zerodown::proxy
