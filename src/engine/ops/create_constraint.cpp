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
// primary_key: no copies (a key keeps its values); see PrimaryKeyPlan.
#include "engine/ops/column_duplication.hpp"
#include "engine/ops/op_support.hpp"
#include "engine/ops/primary_key.hpp"
#include "engine/ops/registry.hpp"

namespace zerodown::engine::ops {

namespace {

class CreateConstraintPlanner final : public OperationPlanner {
 public:
  explicit CreateConstraintPlanner(model::CreateConstraint op) : op_(std::move(op)) {}

  Status Validate(PlanContext& context) override {
    if (op_.type == model::ConstraintType::kPrimaryKey) return ValidatePrimaryKey(context);
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

  void Plan(PlanContext& context) override {
    if (op_.type == model::ConstraintType::kPrimaryKey) {
      primary_key_.Plan(context);
      return;
    }
    duplication_.Plan(context);
  }

 private:
  // A primary key keeps the columns' values as they are: no copies, so `up` and `down` may only
  // name the column itself (pgroll's examples write `id: id`).
  Status ValidatePrimaryKey(PlanContext& context) {
    pg::Connection& conn = context.conn();
    for (const auto* map : {&op_.up, &op_.down}) {
      for (const auto& [column, expression] : *map) {
        if (expression == column || expression == conn.Ident(column)) continue;
        return Error(ErrorKind::kInvalidMigration,
                     fmt::format("a primary key is built over the values the columns hold, but "
                                 "\"{}\" of column \"{}\" would change them",
                                 expression, column),
                     "Change the values with alter_column in an earlier migration, and give "
                     "the primary key `up`/`down` that name the column itself (or none).")
            .WithWhere(fmt::format("field {}.{}", map == &op_.up ? "up" : "down", column));
      }
    }
    return primary_key_.Validate(context, {op_.table, op_.name, op_.columns, op_.index_parameters},
                                 "columns");
  }

  model::CreateConstraint op_;
  ColumnDuplication duplication_;
  PrimaryKeyPlan primary_key_;
};

}  // namespace

std::unique_ptr<OperationPlanner> MakeCreateConstraint(const model::CreateConstraint& op) {
  return std::make_unique<CreateConstraintPlanner>(op);
}

}  // namespace zerodown::engine::ops
