#include "proxy/session_sql.hpp"

#include <gtest/gtest.h>

namespace zerodown::proxy {
namespace {

SettingChange UserId(std::string value) {
  SettingChange change;
  change.value = std::move(value);
  return change;
}

TEST(SessionSql, SetUserIdInEveryForm) {
  for (const char* sql :
       {"SET zerodown.user_id = '42'", "set zerodown.user_id to 42",
        "SET SESSION zerodown.user_id TO \"42\"", "  SET zerodown.USER_ID='42';"}) {
    auto changes = FollowedSettingChanges(sql);
    ASSERT_EQ(changes.size(), 1u) << sql;
    EXPECT_EQ(changes[0], UserId("42")) << sql;
  }
  auto email = FollowedSettingChanges("SET zerodown.user_id = 'user7@example.com'");
  ASSERT_EQ(email.size(), 1u);
  EXPECT_EQ(email[0].value, "user7@example.com");
}

TEST(SessionSql, ResetAndLocal) {
  auto reset = FollowedSettingChanges("RESET zerodown.user_id");
  ASSERT_EQ(reset.size(), 1u);
  EXPECT_TRUE(reset[0].reset);
  EXPECT_EQ(reset[0].setting, SettingKind::kUserId);
  auto to_default = FollowedSettingChanges("SET zerodown.user_id TO DEFAULT");
  ASSERT_EQ(to_default.size(), 1u);
  EXPECT_TRUE(to_default[0].reset);
  auto local = FollowedSettingChanges("SET LOCAL zerodown.user_id = '9'");
  ASSERT_EQ(local.size(), 1u);
  EXPECT_TRUE(local[0].local);
  for (const char* sql : {"RESET ALL", "DISCARD ALL"}) {
    auto all = FollowedSettingChanges(sql);
    ASSERT_EQ(all.size(), 1u) << sql;
    EXPECT_EQ(all[0].setting, SettingKind::kAll) << sql;
  }
}

TEST(SessionSql, SearchPathKeepsSchemaNames) {
  auto changes = FollowedSettingChanges("SET search_path TO \"$user\", Public, \"MixedCase\"");
  ASSERT_EQ(changes.size(), 1u);
  EXPECT_EQ(changes[0].setting, SettingKind::kSearchPath);
  EXPECT_EQ(changes[0].schemas, (std::vector<std::string>{"$user", "public", "MixedCase"}));
}

TEST(SessionSql, SeveralStatementsInOrder) {
  auto changes = FollowedSettingChanges(
      "SET zerodown.user_id = '1'; SELECT 1; SET zerodown.user_id = '2'; RESET search_path");
  ASSERT_EQ(changes.size(), 3u);
  EXPECT_EQ(changes[1], UserId("2"));
  EXPECT_EQ(changes[2].setting, SettingKind::kSearchPath);
}

TEST(SessionSql, OtherStatementsAreNotChanges) {
  for (const char* sql : {"SELECT 1", "SET work_mem = '4MB'", "SELECT 'SET zerodown.user_id = 1'",
                          "UPDATE t SET user_id = 3", "SELECT current_setting('zerodown.user_id')",
                          "SET zerodown.user_id =", "DISCARD PLANS", "RESET work_mem", ""}) {
    EXPECT_TRUE(FollowedSettingChanges(sql).empty()) << sql;
  }
}

}  // namespace
}  // namespace zerodown::proxy
