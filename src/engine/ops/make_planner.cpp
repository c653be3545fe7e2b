#include <fmt/format.h>

#include "engine/ops/registry.hpp"

namespace zerodown::engine {

namespace {

template <class... Ts>
struct Overloaded : Ts... {
  using Ts::operator()...;
};

}  // namespace

Result<std::unique_ptr<OperationPlanner>> MakePlanner(const model::Operation& operation) {
  using Ptr = std::unique_ptr<OperationPlanner>;
  Ptr planner = std::visit(
      Overloaded{
          [](const model::AlterColumn& op) -> Ptr { return ops::MakeAlterColumn(op); },
          [](const model::AddColumn& op) -> Ptr { return ops::MakeAddColumn(op); },
          [](const model::DropColumn& op) -> Ptr { return ops::MakeDropColumn(op); },
          [](const model::RenameColumn& op) -> Ptr { return ops::MakeRenameColumn(op); },
          [](const model::CreateTable& op) -> Ptr { return ops::MakeCreateTable(op); },
          [](const model::DropTable& op) -> Ptr { return ops::MakeDropTable(op); },
          [](const model::RenameTable& op) -> Ptr { return ops::MakeRenameTable(op); },
          [](const model::CreateIndex& op) -> Ptr { return ops::MakeCreateIndex(op); },
          [](const model::DropIndex& op) -> Ptr { return ops::MakeDropIndex(op); },
          [](const model::RebuildTable& op) -> Ptr { return ops::MakeRebuildTable(op); },
          [](const model::RawSql& op) -> Ptr { return ops::MakeRawSql(op); },
          [](const model::RenameConstraint& op) -> Ptr { return ops::MakeRenameConstraint(op); },
          [](const model::CreateConstraint& op) -> Ptr { return ops::MakeCreateConstraint(op); },
          [](const model::DropConstraint& op) -> Ptr { return ops::MakeDropConstraint(op); },
          [](const model::DropMultiColumnConstraint& op) -> Ptr {
            return ops::MakeDropMultiColumnConstraint(op);
          },
          [](const model::SetReplicaIdentity& op) -> Ptr {
            return ops::MakeSetReplicaIdentity(op);
          },
          [](const auto&) -> Ptr { return nullptr; },
      },
      operation);
  if (planner) return planner;
  return Error(ErrorKind::kInvalidMigration,
               fmt::format("operation {} is valid pgroll but not supported by this version of "
                           "zerodown",
                           model::OperationName(operation)),
               "Express it with the supported operations (see docs/migrations.md), or as an "
               "`sql` operation with up and down.");
}

}  // namespace zerodown::engine
