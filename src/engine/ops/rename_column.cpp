// rename_column: the new version's view shows the column under its new name from start on; the
// physical rename waits for complete, so the old version never loses the name it uses.
#include "engine/ops/op_support.hpp"
#include "engine/ops/registry.hpp"

namespace zerodown::engine::ops {

namespace {

class RenameColumnPlanner final : public OperationPlanner {
 public:
  explicit RenameColumnPlanner(model::RenameColumn op) : op_(std::move(op)) {}

  Status Validate(PlanContext& context) override {
    auto table = context.Table(op_.table);
    if (!table.ok()) return table.error().WithWhere("field table");
    auto column = RequireColumn(**table, op_.from, "from");
    if (!column.ok()) return column.error();
    return RequireNoColumn(**table, op_.to, "to");
  }

  void Plan(PlanContext& context) override {
    VirtualTable& table = *context.FindTable(op_.table);
    VirtualColumn& column = *table.FindColumn(op_.from);
    // By complete time every earlier operation has given its columns their final names, so the
    // physical column is called `from` then.
    context.AddComplete(context.Ddl(
        "rename", fmt::format("rename column {}.{} to {}", table.physical, op_.from, op_.to),
        "ACCESS EXCLUSIVE, instant",
        {fmt::format("ALTER TABLE {} RENAME COLUMN {} TO {}", CompleteQualified(context, table),
                     context.conn().Ident(op_.from), context.conn().Ident(op_.to))}));
    column.name = op_.to;
  }

 private:
  model::RenameColumn op_;
};

}  // namespace

std::unique_ptr<OperationPlanner> MakeRenameColumn(const model::RenameColumn& op) {
  return std::make_unique<RenameColumnPlanner>(op);
}

}  // namespace zerodown::engine::ops
