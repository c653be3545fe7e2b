// alter_column: a new physical column beside the old one, kept in step by a row trigger (up from
// old, down from new), filled by a backfill, shown to the new version under the old name. The
// old column is never rewritten, so no statement holds ACCESS EXCLUSIVE for longer than a
// catalog change. complete drops the old column and renames the new one; rollback drops the new.
#include "engine/ops/op_support.hpp"
#include "engine/ops/registry.hpp"
#include "engine/sync_trigger.hpp"
#include "zerodown/pg/catalog.hpp"

namespace zerodown::engine::ops {

namespace {

class AlterColumnPlanner final : public OperationPlanner {
 public:
  explicit AlterColumnPlanner(model::AlterColumn op) : op_(std::move(op)) {}

  Status Validate(PlanContext& context) override {
    auto table = context.Table(op_.table);
    if (!table.ok()) return table.error().WithWhere("field table");
    auto column = RequireColumn(**table, op_.column, "column");
    if (!column.ok()) return column.error();
    VirtualColumn& c = **column;
    if (op_.check || op_.unique || op_.references) {
      return Error(ErrorKind::kInvalidMigration,
                   "alter_column with check, unique or references is not supported by this "
                   "version of zerodown",
                   "Use create_constraint in a migration of its own, or run the constraint "
                   "as `sql` with NOT VALID and validate it later.");
    }
    if (!Duplicates()) return {};
    if (IsKeyColumn(**table, c)) {
      return Error(ErrorKind::kInvalidMigration,
                   fmt::format("column \"{}\" is part of the primary key of \"{}\"", op_.column,
                               op_.table),
                   "Changing a key column online needs the shadow-table rebuild, which this "
                   "version does not have yet.")
          .WithWhere("field column");
    }
    if ((*table)->key_columns.empty()) return NeedsKey(**table);
    if (Status s = RejectIndexedColumn(context, **table, c); !s.ok()) return s;
    new_type_ = op_.type.value_or(c.type);
    if (op_.type) {
      if (Status s = context.CheckType(*op_.type, "type"); !s.ok()) return s;
    }
    old_columns_ = (*table)->columns;
    std::string up = op_.up.value_or(context.conn().Ident(op_.column));
    if (Status s = context.CheckExpression(**table, old_columns_, up, new_type_, "up"); !s.ok()) {
      return s;
    }
    new_columns_ = old_columns_;
    for (auto& nc : new_columns_) {
      if (nc.name == op_.column) {
        nc.type = new_type_;
        nc.pending = true;
      }
    }
    std::string down = op_.down.value_or(context.conn().Ident(op_.column));
    return context.CheckExpression(**table, new_columns_, down, c.type, "down");
  }

  void Plan(PlanContext& context) override {
    VirtualTable& table = *context.FindTable(op_.table);
    VirtualColumn& column = *table.FindColumn(op_.column);
    pg::Connection& conn = context.conn();
    std::string qualified = context.Qualified(table);
    if (!Duplicates()) {
      PlanMetadataOnly(context, table, column);
      return;
    }
    std::string old_physical = column.physical;
    std::string new_physical = PlanContext::TempName("_zd_new_", op_.column);
    bool not_null = op_.nullable.has_value() ? !*op_.nullable : !column.nullable;
    std::string check_name = PlanContext::TempName("_zd_nn_", new_physical);

    SyncSpec spec;
    spec.old_column = old_physical;
    spec.new_column = new_physical;
    spec.up = op_.up.value_or(conn.Ident(op_.column));
    spec.down = op_.down.value_or(conn.Ident(op_.column));
    spec.mode = SyncMode::kBoth;
    spec.old_version_columns = old_columns_;
    spec.new_version_columns = new_columns_;
    for (auto& c : spec.new_version_columns) {
      if (c.name == op_.column) c.physical = new_physical;
    }
    SyncTrigger sync = BuildSyncTrigger(context, table, spec).ValueOrThrow();
    // Column, trigger and NOT NULL check in one transaction: a check without the trigger would
    // reject the old version's writes, which leave the new column NULL.
    std::vector<std::string> add = {fmt::format("ALTER TABLE {} ADD COLUMN IF NOT EXISTS {} {}",
                                                qualified, conn.Ident(new_physical), new_type_)};
    add.insert(add.end(), sync.create_sql.begin(), sync.create_sql.end());
    if (not_null) {
      // NOT VALID: instant. Validated on complete without blocking writes, after which SET NOT
      // NULL needs no scan (PostgreSQL 12+).
      add.push_back(fmt::format("ALTER TABLE {} ADD CONSTRAINT {} CHECK ({} IS NOT NULL) NOT VALID",
                                qualified, conn.Ident(check_name), conn.Ident(new_physical)));
    }
    context.AddStart(context.Ddl(
        "add_column",
        fmt::format("add column {} ({}) to {} beside {}, with the trigger keeping them in step",
                    new_physical, new_type_, table.physical, old_physical),
        "ACCESS EXCLUSIVE, instant (no default, no rewrite)", add));
    context.AddStart(
        BackfillAction(context, table, "backfill",
                       fmt::format("{}.{} from {}", table.physical, new_physical, old_physical)));

    if (not_null) {
      context.AddComplete(
          context.Ddl("validate", fmt::format("validate NOT NULL of {}", new_physical),
                      "SHARE UPDATE EXCLUSIVE while it scans (reads and writes go on)",
                      {fmt::format("ALTER TABLE {} VALIDATE CONSTRAINT {}", qualified,
                                   conn.Ident(check_name))}));
    }
    std::vector<std::string> swap = sync.drop_sql;
    swap.push_back(fmt::format("ALTER TABLE {} DROP COLUMN IF EXISTS {}", qualified,
                               conn.Ident(old_physical)));
    swap.push_back(fmt::format("ALTER TABLE {} RENAME COLUMN {} TO {}", qualified,
                               conn.Ident(new_physical), conn.Ident(op_.column)));
    std::optional<std::string> final_default =
        op_.default_value.IsAbsent()
            ? column.default_expr
            : (op_.default_value.HasValue() ? std::optional(op_.default_value.value())
                                            : std::nullopt);
    if (final_default) {
      swap.push_back(fmt::format("ALTER TABLE {} ALTER COLUMN {} SET DEFAULT {}", qualified,
                                 conn.Ident(op_.column), *final_default));
    }
    if (not_null) {
      swap.push_back(fmt::format("ALTER TABLE {} ALTER COLUMN {} SET NOT NULL", qualified,
                                 conn.Ident(op_.column)));
      swap.push_back(fmt::format("ALTER TABLE {} DROP CONSTRAINT IF EXISTS {}", qualified,
                                 conn.Ident(check_name)));
    }
    if (op_.comment.HasValue()) {
      swap.push_back(fmt::format("COMMENT ON COLUMN {}.{} IS {}", qualified, conn.Ident(op_.column),
                                 conn.Literal(op_.comment.value())));
    }
    context.AddComplete(context.Ddl(
        "swap",
        fmt::format("drop old column {}, rename {} to {}", old_physical, new_physical, op_.column),
        "ACCESS EXCLUSIVE, catalog only (milliseconds)", swap));

    std::vector<std::string> undo = sync.drop_sql;
    undo.push_back(fmt::format("ALTER TABLE {} DROP COLUMN IF EXISTS {}", qualified,
                               conn.Ident(new_physical)));
    context.AddRollback(
        {context.Ddl("drop_new_column", fmt::format("drop trigger and column {}", new_physical),
                     "ACCESS EXCLUSIVE, catalog only", undo)});

    column.physical = new_physical;
    column.type = new_type_;
    column.nullable = !not_null;
    column.pending = true;
    column.view_default = final_default;
  }

 private:
  // Type and nullability change what values the column holds, so both versions need a column of
  // their own; default and comment are metadata.
  bool Duplicates() const { return op_.type.has_value() || op_.nullable.has_value(); }

  void PlanMetadataOnly(PlanContext& context, VirtualTable& table, VirtualColumn& column) {
    pg::Connection& conn = context.conn();
    std::string qualified = context.Qualified(table);
    std::vector<std::string> sql;
    if (!op_.default_value.IsAbsent()) {
      sql.push_back(op_.default_value.HasValue()
                        ? fmt::format("ALTER TABLE {} ALTER COLUMN {} SET DEFAULT {}", qualified,
                                      conn.Ident(column.physical), op_.default_value.value())
                        : fmt::format("ALTER TABLE {} ALTER COLUMN {} DROP DEFAULT", qualified,
                                      conn.Ident(column.physical)));
      if (op_.default_value.HasValue()) column.view_default = op_.default_value.value();
    }
    if (!op_.comment.IsAbsent()) {
      sql.push_back(fmt::format(
          "COMMENT ON COLUMN {}.{} IS {}", qualified, conn.Ident(column.physical),
          op_.comment.HasValue() ? conn.Literal(op_.comment.value()) : std::string("NULL")));
    }
    context.AddComplete(context.Ddl(
        "metadata", fmt::format("set default/comment of {}.{}", table.physical, column.physical),
        "ACCESS EXCLUSIVE, catalog only", sql));
  }

  // Indexes and constraints on the column would have to be rebuilt on the new column; this
  // version refuses rather than silently losing them.
  Status RejectIndexedColumn(PlanContext& context, const VirtualTable& table,
                             const VirtualColumn& column) {
    if (table.created) return {};
    auto info = pg::DescribeTable(context.conn(), context.schema(), table.physical);
    if (!info) return {};
    auto uses = [&](const std::vector<std::string>& cols) {
      return std::find(cols.begin(), cols.end(), column.physical) != cols.end();
    };
    for (const auto& index : info->indexes) {
      if (uses(index.columns)) {
        return Error(ErrorKind::kInvalidMigration,
                     fmt::format("column \"{}\" is used by index \"{}\"", column.name, index.name),
                     "Drop the index in an earlier migration (drop_index) and create it again "
                     "afterwards (create_index); this version does not rebuild indexes on a "
                     "changed column yet.")
            .WithWhere("field column");
      }
    }
    for (const auto& constraint : info->constraints) {
      if (uses(constraint.columns)) {
        return Error(ErrorKind::kInvalidMigration,
                     fmt::format("column \"{}\" is used by constraint \"{}\"", column.name,
                                 constraint.name),
                     "Drop the constraint first (drop_constraint or sql) and add it again after "
                     "the change.")
            .WithWhere("field column");
      }
    }
    return {};
  }

  model::AlterColumn op_;
  std::string new_type_;
  std::vector<VirtualColumn> old_columns_;
  std::vector<VirtualColumn> new_columns_;
};

}  // namespace

std::unique_ptr<OperationPlanner> MakeAlterColumn(const model::AlterColumn& op) {
  return std::make_unique<AlterColumnPlanner>(op);
}

}  // namespace zerodown::engine::ops
