// sql: the user's own statements, run as given (at start, or at complete with onComplete);
// `down` runs on rollback. zerodown cannot see inside them, so it cannot promise their locks.
#include "engine/ops/op_support.hpp"
#include "engine/ops/registry.hpp"

namespace zerodown::engine::ops {

namespace {

class RawSqlPlanner final : public OperationPlanner {
 public:
  explicit RawSqlPlanner(model::RawSql op) : op_(std::move(op)) {}

  Status Validate(PlanContext&) override { return {}; }

  void Plan(PlanContext& context) override {
    Action up;
    up.id = context.ActionId("sql");
    // Raw SQL may hold CONCURRENTLY statements, which refuse a transaction block.
    up.kind = ActionKind::kNonTransactional;
    up.description = "run the migration's raw SQL";
    up.lock = "whatever the SQL takes, under lock_timeout";
    up.sql = {op_.up};
    if (op_.on_complete) {
      context.AddComplete(up);
    } else {
      context.AddStart(up);
    }
    if (op_.down) {
      Action down = up;
      down.id = context.ActionId("sql_down");
      down.description = "run the migration's raw down SQL";
      down.sql = {*op_.down};
      context.AddRollback({down});
    }
  }

 private:
  model::RawSql op_;
};

}  // namespace

std::unique_ptr<OperationPlanner> MakeRawSql(const model::RawSql& op) {
  return std::make_unique<RawSqlPlanner>(op);
}

}  // namespace zerodown::engine::ops
