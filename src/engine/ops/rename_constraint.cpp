// rename_constraint: a catalog-only change that no application query depends on; done on
// complete so that rollback has nothing to undo.
#include "engine/ops/op_support.hpp"
#include "engine/ops/registry.hpp"
#include "zerodown/pg/catalog.hpp"

namespace zerodown::engine::ops {

namespace {

class RenameConstraintPlanner final : public OperationPlanner {
 public:
  explicit RenameConstraintPlanner(model::RenameConstraint op) : op_(std::move(op)) {}

  Status Validate(PlanContext& context) override {
    auto table = context.Table(op_.table);
    if (!table.ok()) return table.error().WithWhere("field table");
    auto info = pg::DescribeTable(context.conn(), context.schema(), (*table)->physical);
    if (!info || !info->FindConstraint(op_.from)) {
      return Error(ErrorKind::kNotFound,
                   fmt::format("constraint \"{}\" does not exist on \"{}\"", op_.from, op_.table),
                   "Check the name (\\d table in psql lists constraints).")
          .WithWhere("field from");
    }
    return {};
  }

  void Plan(PlanContext& context) override {
    VirtualTable& table = *context.FindTable(op_.table);
    context.AddComplete(context.Ddl(
        "rename_constraint", fmt::format("rename constraint {} to {}", op_.from, op_.to),
        "ACCESS EXCLUSIVE, instant",
        {fmt::format("ALTER TABLE {} RENAME CONSTRAINT {} TO {}", CompleteQualified(context, table),
                     context.conn().Ident(op_.from), context.conn().Ident(op_.to))}));
  }

 private:
  model::RenameConstraint op_;
};

}  // namespace

std::unique_ptr<OperationPlanner> MakeRenameConstraint(const model::RenameConstraint& op) {
  return std::make_unique<RenameConstraintPlanner>(op);
}

}  // namespace zerodown::engine::ops
