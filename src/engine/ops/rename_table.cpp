// rename_table: the new version's view carries the new name from start on; the physical table
// is renamed on complete.
#include "engine/ops/op_support.hpp"
#include "engine/ops/registry.hpp"

namespace zerodown::engine::ops {

namespace {

class RenameTablePlanner final : public OperationPlanner {
 public:
  explicit RenameTablePlanner(model::RenameTable op) : op_(std::move(op)) {}

  Status Validate(PlanContext& context) override {
    auto table = context.Table(op_.from);
    if (!table.ok()) return table.error().WithWhere("field from");
    return RequireNoTable(context, op_.to, "to");
  }

  void Plan(PlanContext& context) override {
    VirtualTable table = *context.FindTable(op_.from);
    context.AddComplete(context.Ddl("rename",
                                    fmt::format("rename table {} to {}", op_.from, op_.to),
                                    "ACCESS EXCLUSIVE, instant",
                                    {fmt::format("ALTER TABLE {} RENAME TO {}",
                                                 context.conn().Ident(context.schema(), op_.from),
                                                 context.conn().Ident(op_.to))}));
    context.RemoveTable(op_.from);
    table.name = op_.to;
    context.AddTable(std::move(table));
  }

 private:
  model::RenameTable op_;
};

}  // namespace

std::unique_ptr<OperationPlanner> MakeRenameTable(const model::RenameTable& op) {
  return std::make_unique<RenameTablePlanner>(op);
}

}  // namespace zerodown::engine::ops
