// create_index: built CONCURRENTLY at start, so reads and writes go on while it builds. A build
// that failed or timed out leaves an INVALID index behind; the action drops it before building,
// so a rerun starts clean.
#include "engine/ops/op_support.hpp"
#include "engine/ops/registry.hpp"
#include "zerodown/pg/catalog.hpp"

namespace zerodown::engine::ops {

namespace {

class CreateIndexPlanner final : public OperationPlanner {
 public:
  explicit CreateIndexPlanner(model::CreateIndex op) : op_(std::move(op)) {}

  Status Validate(PlanContext& context) override {
    auto table = context.Table(op_.table);
    if (!table.ok()) return table.error().WithWhere("field table");
    for (const auto& field : op_.columns) {
      auto column = RequireColumn(**table, field.column, "columns");
      if (!column.ok()) return column.error();
    }
    if (pg::IndexIsValid(context.conn(), context.schema(), op_.name).value_or(false)) {
      return Error(ErrorKind::kInvalidMigration,
                   fmt::format("index \"{}\" already exists", op_.name), "Pick another name.")
          .WithWhere("field name");
    }
    return {};
  }

  void Plan(PlanContext& context) override {
    pg::Connection& conn = context.conn();
    VirtualTable& table = *context.FindTable(op_.table);
    std::string elements;
    for (const auto& field : op_.columns) {
      std::string element = conn.Ident(table.FindColumn(field.column)->physical);
      if (field.collate) element += " COLLATE " + conn.Ident(*field.collate);
      if (field.opclass && field.opclass->name) element += " " + *field.opclass->name;
      if (field.sort) element += std::string(" ") + std::string(model::ToString(*field.sort));
      if (field.nulls)
        element += std::string(" NULLS ") + std::string(model::ToString(*field.nulls));
      elements += (elements.empty() ? "" : ", ") + element;
    }
    std::string sql =
        fmt::format("CREATE {}INDEX CONCURRENTLY {} ON {} USING {} ({}){}{}",
                    op_.unique ? "UNIQUE " : "", conn.Ident(op_.name), context.Qualified(table),
                    model::ToString(op_.method.value_or(model::IndexMethod::kBtree)), elements,
                    op_.storage_parameters ? " WITH (" + *op_.storage_parameters + ")" : "",
                    op_.predicate ? " WHERE " + *op_.predicate : "");
    std::string drop =
        fmt::format("DROP INDEX CONCURRENTLY IF EXISTS {}", conn.Ident(context.schema(), op_.name));
    Action create;
    create.id = context.ActionId("create_index");
    create.kind = ActionKind::kNonTransactional;
    create.description = fmt::format("build index {} concurrently", op_.name);
    create.lock = "SHARE UPDATE EXCLUSIVE while it builds (reads and writes go on)";
    create.sql = {drop, sql};
    context.AddStart(create);
    Action undo = create;
    undo.id = context.ActionId("drop_index");
    undo.description = fmt::format("drop index {} concurrently", op_.name);
    undo.sql = {drop};
    context.AddRollback({undo});
  }

 private:
  model::CreateIndex op_;
};

}  // namespace

std::unique_ptr<OperationPlanner> MakeCreateIndex(const model::CreateIndex& op) {
  return std::make_unique<CreateIndexPlanner>(op);
}

}  // namespace zerodown::engine::ops
