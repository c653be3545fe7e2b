// create_constraint: a unique, check or foreign key constraint over one or more existing columns,
// added without a long lock the way pgroll does it: every listed column gets a copy (see
// ColumnDuplication) that `up` fills from the old version's row and `down` maps back, and the
// constraint holds on the copies from start while the old version keeps writing the originals
// unconstrained. unique: an index built CONCURRENTLY on the copies after the backfill (SHARE
// UPDATE EXCLUSIVE, writes go on), attached with ADD CONSTRAINT … USING INDEX at complete
// (ACCESS EXCLUSIVE, instant). foreign_key: ADD CONSTRAINT … NOT VALID on the copies at start
// (SHARE ROW EXCLUSIVE on both tables, instant), VALIDATE at complete (SHARE UPDATE EXCLUSIVE
// here, ROW SHARE on the referenced table). check: enforced by the copies' trigger on every row
// it writes, added NOT VALID after complete's rename (ACCESS EXCLUSIVE, instant) and validated
// (SHARE UPDATE EXCLUSIVE). complete drops the originals and renames the copies (ACCESS
// EXCLUSIVE, catalog only); rollback drops the copies and the constraint with them.
#include "engine/ops/column_duplication.hpp"
#include "engine/ops/op_support.hpp"
#include "engine/ops/registry.hpp"

namespace zerodown::engine::ops {

namespace {

class CreateConstraintPlanner final : public OperationPlanner {
 public:
  explicit CreateConstraintPlanner(model::CreateConstraint op) : op_(std::move(op)) {}

  Status Validate(PlanContext& context) override {
    if (op_.type == model::ConstraintType::kPrimaryKey ||
        op_.type == model::ConstraintType::kExclude) {
      // A table without a primary key cannot be backfilled in batches, and one with a primary
      // key cannot get a second.
      return Error(ErrorKind::kInvalidMigration,
                   fmt::format("create_constraint of type {} is not supported by this version of "
                               "zerodown",
                               model::ToString(op_.type)),
                   "Build a unique index CONCURRENTLY (create_index) and attach it with `sql` "
                   "(ALTER TABLE … ADD PRIMARY KEY USING INDEX).")
          .WithWhere("field type");
    }
    if (op_.columns.empty()) {
      return Error(ErrorKind::kInvalidMigration, "create_constraint lists no columns",
                   "List the columns the constraint covers (for a check, the columns its "
                   "expression uses), each with an up and a down.")
          .WithWhere("field columns");
    }
    std::vector<ColumnChange> changes;
    for (const auto& column : op_.columns) {
      ColumnChange change;
      change.column = column;
      if (auto it = op_.up.find(column); it != op_.up.end()) change.up = it->second;
      if (auto it = op_.down.find(column); it != op_.down.end()) change.down = it->second;
      change.column_field = "columns";
      change.up_field = "up." + column;
      change.down_field = "down." + column;
      changes.push_back(std::move(change));
    }
    if (Status s = duplication_.Validate(context, op_.table, std::move(changes)); !s.ok()) {
      return s;
    }
    switch (op_.type) {
      case model::ConstraintType::kUnique:
        return duplication_.AddUnique(context, {op_.name, op_.columns, false, op_.index_parameters},
                                      "name");
      case model::ConstraintType::kCheck:
        return duplication_.AddCheck(context, {op_.name, op_.check.value_or(""), op_.no_inherit},
                                     "check");
      case model::ConstraintType::kForeignKey: {
        if (!op_.references) {
          return Error(ErrorKind::kInvalidMigration, "a foreign_key constraint needs references",
                       "Give references: {table, columns}.")
              .WithWhere("field references");
        }
        const model::TableForeignKeyReference& r = *op_.references;
        CopyForeignKey key;
        key.name = op_.name;
        key.columns = op_.columns;
        key.table = r.table;
        key.referenced_columns = r.columns;
        key.on_delete = r.on_delete;
        key.on_update = r.on_update;
        key.match_type = r.match_type;
        key.on_delete_set_columns = r.on_delete_set_columns;
        return duplication_.AddForeignKey(context, key, "references");
      }
      case model::ConstraintType::kPrimaryKey:
      case model::ConstraintType::kExclude:
        break;
    }
    return {};
  }

  void Plan(PlanContext& context) override { duplication_.Plan(context); }

 private:
  model::CreateConstraint op_;
  ColumnDuplication duplication_;
};

}  // namespace

std::unique_ptr<OperationPlanner> MakeCreateConstraint(const model::CreateConstraint& op) {
  return std::make_unique<CreateConstraintPlanner>(op);
}

}  // namespace zerodown::engine::ops
