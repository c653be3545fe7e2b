// drop_multicolumn_constraint: the new version stops being bound by a constraint (unique, check,
// foreign key, over one or more columns) while the old version still is. As pgroll does it, every
// column the constraint covers gets an unconstrained copy (see ColumnDuplication): `up` fills it
// from the old version's row (the column itself when absent), `down` maps the new version's
// values back into the constrained original, and must produce values the constraint accepts.
// Nothing is dropped at start. complete drops the originals, which takes the constraint (and a
// unique constraint's index) with them, and renames the copies (ACCESS EXCLUSIVE, catalog only);
// rollback drops the copies and leaves the constraint as it was.
#include <fmt/ranges.h>

#include <algorithm>

#include "engine/ops/column_duplication.hpp"
#include "engine/ops/op_support.hpp"
#include "engine/ops/registry.hpp"

namespace zerodown::engine::ops {

namespace {

class DropMultiColumnConstraintPlanner final : public OperationPlanner {
 public:
  explicit DropMultiColumnConstraintPlanner(model::DropMultiColumnConstraint op)
      : op_(std::move(op)) {}

  Status Validate(PlanContext& context) override {
    auto table = context.Table(op_.table);
    if (!table.ok()) return table.error().WithWhere("field table");
    auto columns = ConstraintColumns(context, **table, op_.name);
    if (!columns.ok()) return columns.error();
    for (const auto* map : {&op_.up, &op_.down}) {
      for (const auto& [column, sql] : *map) {
        if (std::find(columns->begin(), columns->end(), column) == columns->end()) {
          return Error(ErrorKind::kInvalidMigration,
                       fmt::format("column \"{}\" is not covered by constraint \"{}\"", column,
                                   op_.name),
                       fmt::format("up and down map only the constraint's columns: {}.",
                                   fmt::join(*columns, ", ")))
              .WithWhere(map == &op_.up ? "field up" : "field down");
        }
      }
    }
    std::vector<ColumnChange> changes;
    for (const auto& column : *columns) {
      auto down = op_.down.find(column);
      if (down == op_.down.end()) {
        return Error(ErrorKind::kInvalidMigration,
                     fmt::format("down has no entry for column \"{}\"", column),
                     "The old version keeps the constraint: give every column of it a down that "
                     "maps the new version's values into ones the constraint accepts (the column "
                     "name alone keeps them).")
            .WithWhere("field down");
      }
      ColumnChange change;
      change.column = column;
      change.down = down->second;
      if (auto up = op_.up.find(column); up != op_.up.end()) change.up = up->second;
      change.column_field = "name";
      change.up_field = "up." + column;
      change.down_field = "down." + column;
      changes.push_back(std::move(change));
    }
    return duplication_.Validate(context, op_.table, std::move(changes), op_.name);
  }

  void Plan(PlanContext& context) override { duplication_.Plan(context); }

 private:
  model::DropMultiColumnConstraint op_;
  ColumnDuplication duplication_;
};

}  // namespace

std::unique_ptr<OperationPlanner> MakeDropMultiColumnConstraint(
    const model::DropMultiColumnConstraint& op) {
  return std::make_unique<DropMultiColumnConstraintPlanner>(op);
}

}  // namespace zerodown::engine::ops
