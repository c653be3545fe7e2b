// drop_index: the old version may still rely on the index, so it is dropped CONCURRENTLY on
// complete, never at start.
#include "engine/ops/op_support.hpp"
#include "engine/ops/registry.hpp"
#include "zerodown/pg/catalog.hpp"

namespace zerodown::engine::ops {

namespace {

class DropIndexPlanner final : public OperationPlanner {
 public:
  explicit DropIndexPlanner(model::DropIndex op) : op_(std::move(op)) {}

  Status Validate(PlanContext& context) override {
    if (pg::IndexIsValid(context.conn(), context.schema(), op_.name)) return {};
    return Error(ErrorKind::kNotFound,
                 fmt::format("index \"{}\" does not exist in schema \"{}\"", op_.name,
                             context.schema()),
                 "Check the index name (\\di in psql lists them).")
        .WithWhere("field name");
  }

  void Plan(PlanContext& context) override {
    Action drop;
    drop.id = context.ActionId("drop_index");
    drop.kind = ActionKind::kNonTransactional;
    drop.description = fmt::format("drop index {} concurrently", op_.name);
    drop.lock = "SHARE UPDATE EXCLUSIVE (reads and writes go on)";
    drop.sql = {fmt::format("DROP INDEX CONCURRENTLY IF EXISTS {}",
                            context.conn().Ident(context.schema(), op_.name))};
    context.AddComplete(drop);
  }

 private:
  model::DropIndex op_;
};

}  // namespace

std::unique_ptr<OperationPlanner> MakeDropIndex(const model::DropIndex& op) {
  return std::make_unique<DropIndexPlanner>(op);
}

}  // namespace zerodown::engine::ops
