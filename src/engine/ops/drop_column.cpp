// drop_column: the new version stops seeing the column at start; the column itself is dropped
// on complete (a catalog change). `down` fills it for rows the new version inserts, so the old
// version keeps reading sensible values.
#include "engine/ops/op_support.hpp"
#include "engine/ops/registry.hpp"
#include "engine/sync_trigger.hpp"

namespace zerodown::engine::ops {

namespace {

class DropColumnPlanner final : public OperationPlanner {
 public:
  explicit DropColumnPlanner(model::DropColumn op) : op_(std::move(op)) {}

  Status Validate(PlanContext& context) override {
    auto table = context.Table(op_.table);
    if (!table.ok()) return table.error().WithWhere("field table");
    auto column = RequireColumn(**table, op_.column, "column");
    if (!column.ok()) return column.error();
    if (IsKeyColumn(**table, **column)) {
      return Error(ErrorKind::kInvalidMigration,
                   fmt::format("column \"{}\" is part of the primary key", op_.column),
                   "Drop or replace the primary key first.")
          .WithWhere("field column");
    }
    if (!(*column)->nullable && !(*column)->default_expr && !op_.down) {
      return Error(ErrorKind::kInvalidMigration,
                   fmt::format("column \"{}\" is NOT NULL without a default, so rows the new "
                               "version inserts would fail",
                               op_.column),
                   "Give `down`: the value the old version should see for rows the new version "
                   "inserts.")
          .WithWhere("field down");
    }
    if (!op_.down) return {};
    std::vector<VirtualColumn> remaining;
    for (const auto& c : (*table)->columns) {
      if (c.name != op_.column) remaining.push_back(c);
    }
    return context.CheckExpression(**table, remaining, *op_.down, (*column)->type, "down");
  }

  void Plan(PlanContext& context) override {
    VirtualTable& table = *context.FindTable(op_.table);
    VirtualColumn column = *table.FindColumn(op_.column);
    std::vector<VirtualColumn> remaining;
    for (const auto& c : table.columns) {
      if (c.name != op_.column) remaining.push_back(c);
    }
    std::vector<std::string> drop_trigger;
    if (op_.down) {
      SyncSpec spec;
      spec.old_column = column.physical;
      spec.new_column = column.physical;
      spec.down = *op_.down;
      spec.mode = SyncMode::kDownOnly;
      spec.new_version_columns = remaining;
      SyncTrigger sync = BuildSyncTrigger(context, table, spec).ValueOrThrow();
      context.AddStart(context.Ddl("trigger",
                                   fmt::format("trigger filling {} from down", column.physical),
                                   "SHARE ROW EXCLUSIVE, instant", sync.create_sql));
      drop_trigger = sync.complete_drop_sql;
      context.AddRollback({context.Ddl("drop_trigger", "drop the down trigger",
                                       "ACCESS EXCLUSIVE, instant", sync.drop_sql)});
    }
    std::vector<std::string> sql = drop_trigger;
    sql.push_back(fmt::format("ALTER TABLE {} DROP COLUMN IF EXISTS {}",
                              CompleteQualified(context, table), context.conn().Ident(op_.column)));
    context.AddComplete(context.Ddl(
        "drop_column", fmt::format("drop column {}.{}", table.physical, column.physical),
        "ACCESS EXCLUSIVE, catalog only (no rewrite)", sql));
    table.columns = remaining;
  }

 private:
  model::DropColumn op_;
};

}  // namespace

std::unique_ptr<OperationPlanner> MakeDropColumn(const model::DropColumn& op) {
  return std::make_unique<DropColumnPlanner>(op);
}

}  // namespace zerodown::engine::ops
