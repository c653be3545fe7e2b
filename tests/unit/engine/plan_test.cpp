// The plan is stored as JSON in zerodown.migrations and read back by complete, rollback, resume
// and verify: every field a later command needs must survive the round trip.
#include "zerodown/engine/plan.hpp"

#include <gtest/gtest.h>

#include "zerodown/engine/shadow_copy.hpp"

namespace zerodown::engine {
namespace {

ShadowCopySpec Spec() {
  ShadowCopySpec spec = ShadowCopySpec::Named("public", "accounts", "balance_bigint");
  spec.key_columns = {"region", "id"};
  spec.added = {{"_zd_new_balance", "bigint", "balance"}};
  spec.names = {{"balance", "balance", "integer"}, {"", "pending", "text"}};
  spec.after_swap_sql = {"CREATE TRIGGER …"};
  return spec;
}

TEST(PlanTest, ShadowCopyActionAndChecksSurviveTheRoundTrip) {
  Plan plan;
  plan.version_schema = "public_balance_bigint";
  Action copy;
  copy.id = "1.shadow_copy";
  copy.kind = ActionKind::kShadowCopy;
  copy.description = "copy accounts";
  copy.lock = "ACCESS EXCLUSIVE for the swap";
  copy.schema = "public";
  copy.table = "accounts";
  copy.key_columns = {"region", "id"};
  copy.detail = Spec().ToJson();
  plan.start.push_back(copy);
  plan.checks.push_back({"accounts.balance", "public", "accounts", {"id"}, "SELECT 1"});

  Plan back = PlanFromJson(nlohmann::json::parse(ToJson(plan).dump()));
  ASSERT_EQ(back.start.size(), 1u);
  EXPECT_EQ(back.start[0].kind, ActionKind::kShadowCopy);
  EXPECT_EQ(back.start[0].key_columns, copy.key_columns);
  EXPECT_EQ(back.start[0].detail, copy.detail);
  ASSERT_EQ(back.checks.size(), 1u);
  EXPECT_EQ(back.checks[0].select_sql, "SELECT 1");
  EXPECT_EQ(back.checks[0].key_columns, std::vector<std::string>{"id"});
}

TEST(PlanTest, PlansStoredBeforeChecksExistedStillRead) {
  nlohmann::json old = {{"version_schema", "v"},
                        {"start", nlohmann::json::array()},
                        {"complete", nlohmann::json::array()},
                        {"rollback", nlohmann::json::array()}};
  EXPECT_TRUE(PlanFromJson(old).checks.empty());
}

TEST(PlanTest, ShadowCopySpecRoundTripsAndNamesItsLeftovers) {
  ShadowCopySpec spec = Spec();
  ShadowCopySpec back = ShadowCopySpec::FromJson(spec.ToJson());
  EXPECT_EQ(back.ToJson(), spec.ToJson());
  EXPECT_EQ(back.shadow, "_zd_shadow_accounts");
  EXPECT_EQ(back.retired, "_zd_retired_accounts");
  ASSERT_EQ(back.names.size(), 2u);
  EXPECT_TRUE(back.names[1].physical.empty()) << "a column not in the heap yet stays unnamed";
}

// The change logs live in the shared zerodown schema: one migration file run on two tenants'
// schemas at once must get two logs, or one run's replay takes the other's entries.
TEST(PlanTest, TheSameMigrationOnTwoSchemasGetsLogsOfItsOwn) {
  ShadowCopySpec a = ShadowCopySpec::Named("tenant_a", "acct", "08_bal_bigint");
  ShadowCopySpec b = ShadowCopySpec::Named("tenant_b", "acct", "08_bal_bigint");
  EXPECT_NE(a.log_table, b.log_table);
  EXPECT_NE(a.log_function, b.log_function);
  EXPECT_NE(a.reverse_log_table, b.reverse_log_table);
  EXPECT_NE(a.reverse_log_function, b.reverse_log_function);
  EXPECT_EQ(a.shadow, b.shadow) << "each in its own schema";
}

TEST(PlanTest, KeyRetypeSpecAndSwapBackSurviveTheRoundTrip) {
  ShadowCopySpec spec = Spec();
  spec.retyped = {{"id", "bigint", "CAST(id AS bigint)"}};
  spec.keep_old_heap = true;
  EXPECT_EQ(ShadowCopySpec::FromJson(spec.ToJson()).ToJson(), spec.ToJson());
  EXPECT_NE(spec.reverse_log_table, spec.log_table);

  Plan plan;
  Action back;
  back.id = "1.swap_back";
  back.kind = ActionKind::kShadowSwapBack;
  back.detail = {{"spec", spec.ToJson()}, {"start_action", "1.shadow_copy"}};
  plan.rollback.push_back(back);
  Plan read = PlanFromJson(nlohmann::json::parse(ToJson(plan).dump()));
  ASSERT_EQ(read.rollback.size(), 1u);
  EXPECT_EQ(read.rollback[0].kind, ActionKind::kShadowSwapBack);
  EXPECT_EQ(read.rollback[0].detail, back.detail);
}

TEST(PlanTest, SpecsStoredBeforeKeyRetypesExistedStillRead) {
  nlohmann::json old = Spec().ToJson();
  for (const char* key :
       {"retyped", "keep_old_heap", "reverse_log_table", "reverse_log_function"}) {
    old.erase(key);
  }
  ShadowCopySpec read = ShadowCopySpec::FromJson(old);
  EXPECT_TRUE(read.retyped.empty());
  EXPECT_FALSE(read.keep_old_heap) << "a plan saved earlier drops its old heap after the swap";
  EXPECT_TRUE(read.reverse_log_function.empty());
}

TEST(PlanTest, LongTableNamesStayWithinPostgresLimit) {
  std::string long_name(70, 't');
  ShadowCopySpec spec = ShadowCopySpec::Named("public", long_name, "m");
  EXPECT_LE(spec.shadow.size(), 63u);
  EXPECT_LE(spec.retired.size(), 63u);
  EXPECT_LE(spec.log_table.size(), 63u);
  EXPECT_NE(spec.shadow, spec.retired);
}

TEST(PlanTest, MechanismNamesRoundTrip) {
  for (Mechanism m : {Mechanism::kAuto, Mechanism::kInPlace, Mechanism::kShadow}) {
    EXPECT_EQ(MechanismFromName(MechanismName(m)), m);
  }
  EXPECT_FALSE(MechanismFromName("fast").has_value());
}

}  // namespace
}  // namespace zerodown::engine
