// drop_constraint: pgroll's older, single-column form of drop_multicolumn_constraint, with one
// `up` and one `down` for the constraint's only column. The column gets an unconstrained copy
// (see ColumnDuplication) that the new version uses; complete drops the original, which takes
// the constraint with it, and renames the copy (ACCESS EXCLUSIVE, catalog only); rollback drops
// the copy. Nothing is dropped at start, so the old version stays bound by the constraint.
#include "engine/ops/column_duplication.hpp"
#include "engine/ops/op_support.hpp"
#include "engine/ops/registry.hpp"

namespace zerodown::engine::ops {

namespace {

class DropConstraintPlanner final : public OperationPlanner {
 public:
  explicit DropConstraintPlanner(model::DropConstraint op) : op_(std::move(op)) {}

  Status Validate(PlanContext& context) override {
    auto table = context.Table(op_.table);
    if (!table.ok()) return table.error().WithWhere("field table");
    auto columns = ConstraintColumns(context, **table, op_.name);
    if (!columns.ok()) return columns.error();
    if (columns->size() != 1) {
      return Error(ErrorKind::kInvalidMigration,
                   fmt::format("constraint \"{}\" covers {} columns", op_.name, columns->size()),
                   "Use drop_multicolumn_constraint, with an up and a down per column.")
          .WithWhere("field name");
    }
    ColumnChange change;
    change.column = columns->front();
    change.up = op_.up;
    change.down = op_.down;
    change.column_field = "name";
    return duplication_.Validate(context, op_.table, {change}, op_.name);
  }

  void Plan(PlanContext& context) override { duplication_.Plan(context); }

 private:
  model::DropConstraint op_;
  ColumnDuplication duplication_;
};

}  // namespace

std::unique_ptr<OperationPlanner> MakeDropConstraint(const model::DropConstraint& op) {
  return std::make_unique<DropConstraintPlanner>(op);
}

}  // namespace zerodown::engine::ops
