// set_replica_identity: ALTER TABLE … REPLICA IDENTITY at start. The form takes ACCESS EXCLUSIVE
// (the ALTER TABLE page lists no weaker lock for it) but only changes pg_class/pg_index, so it
// is held for a catalog update under the lock_timeout retry. Both versions share the table, and
// the identity only changes what logical decoding writes for updates and deletes, so there is
// nothing to do at complete. rollback restores the identity read from the catalog at planning
// time (pg_class.relreplident and the index marked indisreplident).
#include "engine/ops/op_support.hpp"
#include "engine/ops/registry.hpp"
#include "zerodown/pg/catalog.hpp"

namespace zerodown::engine::ops {

namespace {

class SetReplicaIdentityPlanner final : public OperationPlanner {
 public:
  explicit SetReplicaIdentityPlanner(model::SetReplicaIdentity op) : op_(std::move(op)) {}

  Status Validate(PlanContext& context) override {
    auto table = context.Table(op_.table);
    if (!table.ok()) return table.error().WithWhere("field table");
    if ((*table)->created) return {};
    pg::Connection& conn = context.conn();
    auto info = pg::DescribeTable(conn, context.schema(), (*table)->physical);
    if (!info) return {};
    if (op_.identity.type == model::ReplicaIdentityType::kIndex) {
      std::string name = op_.identity.index.value_or("");
      const pg::IndexInfo* index = info->FindIndex(name);
      if (index == nullptr) {
        return Error(ErrorKind::kNotFound,
                     fmt::format("index \"{}\" does not exist on table \"{}\"", name, op_.table),
                     "Name an index of this table, created in an earlier migration.")
            .WithWhere("field identity.index");
      }
      // The server's own rules for an identity index; checked here so that start does not fail
      // half-way through a migration.
      bool not_null = !index->columns.empty();
      for (const auto& c : index->columns) {
        const pg::ColumnInfo* column = info->FindColumn(c);
        not_null = not_null && column != nullptr && column->not_null;
      }
      if (!index->unique || !index->valid || !not_null ||
          index->definition.find(" WHERE ") != std::string::npos) {
        return Error(ErrorKind::kInvalidMigration,
                     fmt::format("index \"{}\" cannot be a replica identity", name),
                     "A replica identity index must be unique, valid, not partial, not "
                     "deferrable, and cover only NOT NULL columns.")
            .WithWhere("field identity.index");
      }
    }
    pg::TableProperties previous =
        pg::ReadTableProperties(conn, conn.Ident(context.schema(), (*table)->physical));
    previous_ = std::string(1, previous.replica_identity);
    if (!previous.replica_identity_index.empty()) {
      previous_index_ = previous.replica_identity_index;
    }
    return {};
  }

  void Plan(PlanContext& context) override {
    VirtualTable& table = *context.FindTable(op_.table);
    pg::Connection& conn = context.conn();
    std::string qualified = context.Qualified(table);
    std::string identity = Clause(conn, op_.identity.type, op_.identity.index);
    constexpr const char* kLock = "ACCESS EXCLUSIVE, instant (catalog only)";
    context.AddStart(context.Ddl(
        "replica_identity",
        fmt::format("set replica identity of {} to {}", table.physical, identity), kLock,
        {fmt::format("ALTER TABLE {} REPLICA IDENTITY {}", qualified, identity)}));
    if (table.created || previous_.empty()) return;  // a new table goes away on rollback anyway
    std::string restore;
    if (previous_ == "i" && previous_index_) {
      restore = Clause(conn, model::ReplicaIdentityType::kIndex, previous_index_);
    } else if (previous_ == "f") {
      restore = "FULL";
    } else if (previous_ == "n" || previous_ == "i") {
      // 'i' whose index is gone behaves as NOTHING.
      restore = "NOTHING";
    } else {
      restore = "DEFAULT";
    }
    context.AddRollback({context.Ddl(
        "replica_identity",
        fmt::format("restore replica identity of {} to {}", table.physical, restore), kLock,
        {fmt::format("ALTER TABLE {} REPLICA IDENTITY {}", qualified, restore)})});
  }

 private:
  static std::string Clause(pg::Connection& conn, model::ReplicaIdentityType type,
                            const std::optional<std::string>& index) {
    switch (type) {
      case model::ReplicaIdentityType::kNothing:
        return "NOTHING";
      case model::ReplicaIdentityType::kFull:
        return "FULL";
      case model::ReplicaIdentityType::kIndex:
        return "USING INDEX " + conn.Ident(index.value_or(""));
      case model::ReplicaIdentityType::kDefault:
        break;
    }
    return "DEFAULT";
  }

  model::SetReplicaIdentity op_;
  std::string previous_;  // pg_class.relreplident before start: d, n, f or i
  std::optional<std::string> previous_index_;
};

}  // namespace

std::unique_ptr<OperationPlanner> MakeSetReplicaIdentity(const model::SetReplicaIdentity& op) {
  return std::make_unique<SetReplicaIdentityPlanner>(op);
}

}  // namespace zerodown::engine::ops
