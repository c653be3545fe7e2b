// rebuild_table: the table is copied into a new heap and swapped in, the shadow copy (what
// pg_repack does, and what `zerodown repack` runs). The copy takes no lock the application waits
// on; the swap holds ACCESS EXCLUSIVE for milliseconds under lock_timeout.
//
// Without `columns` the schema does not change, so complete has nothing to do and rollback only
// removes what an unfinished copy left (after the swap the new heap holds the same rows). With
// `columns`, every listed column gets its new definition in the same copy (one copy for many
// changes): the column duplication of alter_column, always by shadow copy, so both versions read
// and write until complete. A key column's type change copies the table with the key cast
// (KeyRetype), which keeps the old heap for rollback; it cannot share a copy with other changes.
#include "engine/ops/column_duplication.hpp"
#include "engine/ops/key_retype.hpp"
#include "engine/ops/op_support.hpp"
#include "engine/ops/registry.hpp"

namespace zerodown::engine::ops {

namespace {

class RebuildTablePlanner final : public OperationPlanner {
 public:
  explicit RebuildTablePlanner(model::RebuildTable op) : op_(std::move(op)) {}

  Status Validate(PlanContext& context) override {
    if (op_.alter) {
      return Error(ErrorKind::kInvalidMigration,
                   "the ALTER TABLE clauses of `alter` were not translated into column changes",
                   "Run the file through zerodown's command line (it translates `alter`), or give "
                   "the changes as `columns`.")
          .WithWhere("field alter");
    }
    auto table = context.Table(op_.table);
    if (!table.ok()) return table.error().WithWhere("field table");
    VirtualTable& t = **table;
    if (t.created) {
      return Error(ErrorKind::kInvalidMigration,
                   fmt::format("table \"{}\" is created by this migration", t.name),
                   "Rebuild it in a later migration; a new table has nothing to reclaim.")
          .WithWhere("field table");
    }
    if (t.key_columns.empty()) return NeedsKey(t);
    if (context.mechanism() == Mechanism::kInPlace) {
      return Error(ErrorKind::kInvalidMigration,
                   fmt::format("rebuild_table copies \"{}\" into a new heap; it has no in-place "
                               "form",
                               t.name),
                   "Run without --mechanism=inplace, or change the columns with alter_column.");
    }
    std::vector<std::string> blockers =
        ShadowCopyBlockers(context.conn(), context.schema(), t.physical);
    if (!blockers.empty()) {
      std::string why;
      for (const auto& b : blockers) why += (why.empty() ? "" : ", ") + b;
      return Error(ErrorKind::kInvalidMigration,
                   fmt::format("table \"{}\" cannot be copied into a new heap: {}", t.name, why),
                   "Rebuild it with VACUUM FULL in a maintenance window, or remove what blocks "
                   "the copy first.")
          .WithWhere("field table");
    }
    if (op_.columns.empty()) return RequireNoCopyLeftovers(context, t);
    if (Status s = ValidateKeyChange(context, t); !s.ok() || retypes_key_) return s;
    std::vector<ColumnChange> changes;
    for (std::size_t i = 0; i < op_.columns.size(); ++i) {
      const model::RebuildColumn& c = op_.columns[i];
      std::string field = fmt::format("columns[{}]", i + 1);
      ColumnChange change;
      change.column = c.column;
      change.type = c.type;
      change.nullable = c.nullable;
      change.default_value = c.default_value;
      change.comment = c.comment;
      change.up = c.up;
      change.down = c.down;
      change.column_field = field + ".column";
      change.type_field = field + ".type";
      change.up_field = field + ".up";
      change.down_field = field + ".down";
      changes.push_back(std::move(change));
    }
    duplication_.RequireShadowCopy("rebuild_table");
    return duplication_.Validate(context, op_.table, std::move(changes));
  }

  void Plan(PlanContext& context) override {
    if (retypes_key_) {
      key_retype_.Plan(context);
      return;
    }
    if (!op_.columns.empty()) {
      duplication_.Plan(context);
      return;
    }
    VirtualTable& table = *context.FindTable(op_.table);
    ShadowCopySpec spec =
        ShadowCopySpec::Named(context.schema(), table.physical, context.migration());
    spec.key_columns = table.key_columns;
    TableEstimate e = EstimateTable(context.conn(), context.schema(), table.physical);
    context.AddStart(ShadowCopyAction(
        context, table, spec,
        fmt::format("rebuild {} in a new heap (~{} rows, {:.0f} MB + {:.0f} MB of indexes): copy "
                    "in key order, build its indexes, replay the change log, swap it in",
                    table.physical, e.rows, e.table_bytes / 1048576.0, e.index_bytes / 1048576.0)));
    context.AddRollback({context.Ddl("drop_copy", "remove what an unfinished rebuild left",
                                     "ACCESS EXCLUSIVE on the unused copy only, instant",
                                     spec.CleanupSql(context.conn()))});
  }

 private:
  // A key column in `columns`: alone and with only a type (and up), it is the key's type change;
  // anything else is refused with the way to write it.
  Status ValidateKeyChange(PlanContext& context, VirtualTable& table) {
    for (std::size_t i = 0; i < op_.columns.size(); ++i) {
      const model::RebuildColumn& c = op_.columns[i];
      const VirtualColumn* column = table.FindColumn(c.column);
      if (column == nullptr || !IsKeyColumn(table, *column)) continue;
      std::string field = fmt::format("field columns[{}]", i + 1);
      bool only_type = c.type && !c.nullable && c.default_value.IsAbsent() && c.comment.IsAbsent();
      if (op_.columns.size() > 1 || !only_type) {
        return Error(ErrorKind::kInvalidMigration,
                     fmt::format("column \"{}\" is part of the primary key: its type change "
                                 "copies the table with the key cast and keeps the old heap for "
                                 "rollback, which cannot share a copy with other changes",
                                 c.column),
                     "Change the key's type (only `type`, and `up`) in a rebuild_table or "
                     "alter_column of its own, and the other columns in another operation.")
            .WithWhere(field);
      }
      retypes_key_ = true;
      return key_retype_.Validate(context, op_.table, c.column, *c.type, c.up, c.down);
    }
    return {};
  }

  model::RebuildTable op_;
  ColumnDuplication duplication_;
  bool retypes_key_ = false;
  KeyRetype key_retype_;
};

}  // namespace

std::unique_ptr<OperationPlanner> MakeRebuildTable(const model::RebuildTable& op) {
  return std::make_unique<RebuildTablePlanner>(op);
}

}  // namespace zerodown::engine::ops
