// One factory per supported operation; MakePlanner (make_planner.cpp) dispatches to them. A new
// operation is one file under ops/, one line here and one line in make_planner.cpp.
#pragma once

#include <memory>

#include "zerodown/engine/operation.hpp"

namespace zerodown::engine::ops {

std::unique_ptr<OperationPlanner> MakeAlterColumn(const model::AlterColumn& op);
std::unique_ptr<OperationPlanner> MakeAddColumn(const model::AddColumn& op);
std::unique_ptr<OperationPlanner> MakeDropColumn(const model::DropColumn& op);
std::unique_ptr<OperationPlanner> MakeRenameColumn(const model::RenameColumn& op);
std::unique_ptr<OperationPlanner> MakeCreateTable(const model::CreateTable& op);
std::unique_ptr<OperationPlanner> MakeDropTable(const model::DropTable& op);
std::unique_ptr<OperationPlanner> MakeRebuildTable(const model::RebuildTable& op);
std::unique_ptr<OperationPlanner> MakeRenameTable(const model::RenameTable& op);
std::unique_ptr<OperationPlanner> MakeCreateIndex(const model::CreateIndex& op);
std::unique_ptr<OperationPlanner> MakeDropIndex(const model::DropIndex& op);
std::unique_ptr<OperationPlanner> MakeRawSql(const model::RawSql& op);
std::unique_ptr<OperationPlanner> MakeRenameConstraint(const model::RenameConstraint& op);
std::unique_ptr<OperationPlanner> MakeCreateConstraint(const model::CreateConstraint& op);
std::unique_ptr<OperationPlanner> MakeDropConstraint(const model::DropConstraint& op);
std::unique_ptr<OperationPlanner> MakeDropMultiColumnConstraint(
    const model::DropMultiColumnConstraint& op);
std::unique_ptr<OperationPlanner> MakeSetReplicaIdentity(const model::SetReplicaIdentity& op);

}  // namespace zerodown::engine::ops
