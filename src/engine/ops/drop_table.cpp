// drop_table: gone from the new version at start, dropped for real on complete; rollback has
// nothing to restore because nothing was touched.
#include "engine/ops/op_support.hpp"
#include "engine/ops/registry.hpp"

namespace zerodown::engine::ops {

namespace {

class DropTablePlanner final : public OperationPlanner {
 public:
  explicit DropTablePlanner(model::DropTable op) : op_(std::move(op)) {}

  Status Validate(PlanContext& context) override {
    auto table = context.Table(op_.name);
    return table.ok() ? Status() : Status(table.error().WithWhere("field name"));
  }

  void Plan(PlanContext& context) override {
    VirtualTable& table = *context.FindTable(op_.name);
    context.AddComplete(context.Ddl(
        "drop", fmt::format("drop table {}", table.physical), "ACCESS EXCLUSIVE, instant",
        {fmt::format("DROP TABLE IF EXISTS {}", CompleteQualified(context, table))}));
    context.RemoveTable(op_.name);
  }

 private:
  model::DropTable op_;
};

}  // namespace

std::unique_ptr<OperationPlanner> MakeDropTable(const model::DropTable& op) {
  return std::make_unique<DropTablePlanner>(op);
}

}  // namespace zerodown::engine::ops
