// rebuild_table: the table is copied into a new heap and swapped in, the shadow copy with no
// column added (what pg_repack does, and what `zerodown repack` runs). The copy takes no lock the
// application waits on; the swap holds ACCESS EXCLUSIVE for milliseconds under lock_timeout. The
// schema does not change, so complete has nothing to do and rollback only removes what an
// unfinished copy left (after the swap the new heap holds the same rows).
#include "engine/ops/op_support.hpp"
#include "engine/ops/registry.hpp"

namespace zerodown::engine::ops {

namespace {

class RebuildTablePlanner final : public OperationPlanner {
 public:
  explicit RebuildTablePlanner(model::RebuildTable op) : op_(std::move(op)) {}

  Status Validate(PlanContext& context) override {
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
    return {};
  }

  void Plan(PlanContext& context) override {
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
  model::RebuildTable op_;
};

}  // namespace

std::unique_ptr<OperationPlanner> MakeRebuildTable(const model::RebuildTable& op) {
  return std::make_unique<RebuildTablePlanner>(op);
}

}  // namespace zerodown::engine::ops
