// What `bluegreen start` and `bluegreen complete` accept from a migration file alone, before any
// database is asked.
#include "bluegreen/migration_scope.hpp"

#include <gtest/gtest.h>

namespace zerodown::bluegreen {
namespace {

model::Migration With(model::Operation operation) {
  model::Migration migration;
  migration.name = "m";
  migration.source = "m.yaml";
  migration.operations.push_back(std::move(operation));
  return migration;
}

model::AlterColumn Widen(std::optional<std::string> up) {
  model::AlterColumn alter;
  alter.table = "accounts";
  alter.column = "amount";
  alter.type = "bigint";
  alter.up = std::move(up);
  return alter;
}

TEST(StartScope, TakesWhatReplicationTolerates) {
  model::AddColumn add;
  add.table = "accounts";
  add.column.name = "cents";
  add.column.type = "bigint";
  add.up = "amount * 100";
  model::CreateIndex index;
  index.name = "accounts_amount";
  index.table = "accounts";
  model::CreateConstraint unique;
  unique.table = "accounts";
  unique.name = "accounts_client_key";
  unique.columns = {"client"};
  for (const model::Operation& op :
       std::vector<model::Operation>{add, Widen("amount::bigint"), index, unique}) {
    EXPECT_TRUE(CheckStartScope(With(op)).ok()) << model::OperationName(op);
  }
}

TEST(StartScope, RefusesWhatBreaksTheSubscriptionNamingTheOperation) {
  model::CreateConstraint key;
  key.table = "accounts";
  key.name = "accounts_pkey2";
  key.type = model::ConstraintType::kPrimaryKey;
  std::vector<model::Operation> refused = {
      model::DropColumn{"accounts", "client", std::nullopt},
      model::RenameColumn{"accounts", "client", "customer"},
      model::RenameTable{"accounts", "ledger"},
      model::DropTable{"accounts"},
      model::SetReplicaIdentity{"accounts", {}},
      model::RebuildTable{"accounts", {}, std::nullopt},
      model::CreateTable{"extra", {}, std::nullopt, {}},
      model::RawSql{"ALTER TABLE accounts DROP COLUMN client", std::nullopt, false},
      key,
      model::DropIndex{"accounts_amount"},
  };
  for (const auto& op : refused) {
    Status status = CheckStartScope(With(op));
    ASSERT_FALSE(status.ok()) << model::OperationName(op);
    EXPECT_EQ(status.error().kind(), ErrorKind::kInvalidMigration);
    std::string text = status.error().Describe();
    EXPECT_NE(text.find(std::string(model::OperationName(op))), std::string::npos) << text;
    EXPECT_NE(text.find("operation 1"), std::string::npos) << text;
    EXPECT_FALSE(status.error().fix().empty()) << text;
  }
}

TEST(CompleteScope, AllowsWhatBlueRowsReachByName) {
  for (const char* up : {"amount::bigint", " CAST( amount AS BIGINT ) ", "\"amount\"", "amount"}) {
    EXPECT_TRUE(CheckCompleteWhileBlueServes(With(Widen(up))).ok()) << up;
  }
  EXPECT_TRUE(CheckCompleteWhileBlueServes(With(Widen(std::nullopt))).ok());
  model::AddColumn plain;
  plain.table = "accounts";
  plain.column.name = "note";
  plain.column.type = "text";
  plain.column.nullable = true;
  EXPECT_TRUE(CheckCompleteWhileBlueServes(With(plain)).ok());
}

TEST(CompleteScope, RefusesWhatNeedsTheTriggerForBluesRows) {
  Status widened = CheckCompleteWhileBlueServes(With(Widen("amount * 100")));
  ASSERT_FALSE(widened.ok());
  EXPECT_EQ(widened.error().kind(), ErrorKind::kConflict);
  EXPECT_NE(widened.error().Describe().find("amount * 100"), std::string::npos);
  model::AddColumn computed;
  computed.table = "accounts";
  computed.column.name = "cents";
  computed.column.type = "bigint";
  computed.up = "amount * 100";
  Status added = CheckCompleteWhileBlueServes(With(computed));
  ASSERT_FALSE(added.ok());
  EXPECT_NE(added.error().fix().find("bluegreen finish"), std::string::npos);
}

}  // namespace
}  // namespace zerodown::bluegreen
