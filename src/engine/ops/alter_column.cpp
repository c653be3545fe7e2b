// alter_column: a change to what the column holds (type, nullable, check, unique, references)
// gives the new version a physical copy of the column beside the old one (ColumnDuplication):
// kept in step by a row trigger (up from old, down from new), filled by a backfill, shown to the
// new version under the column's name. The old column is never rewritten, so no statement holds
// ACCESS EXCLUSIVE for longer than a catalog change. The new constraints hold on the copy from
// start: references as a NOT VALID foreign key (SHARE ROW EXCLUSIVE on both tables, instant),
// unique as an index built CONCURRENTLY (SHARE UPDATE EXCLUSIVE, writes go on), check in the
// trigger. complete validates them (SHARE UPDATE EXCLUSIVE), drops the old column and renames the
// copy (ACCESS EXCLUSIVE, catalog only); rollback drops the copy. Default and comment alone are
// metadata, set at complete.
#include "engine/ops/column_duplication.hpp"
#include "engine/ops/key_retype.hpp"
#include "engine/ops/op_support.hpp"
#include "engine/ops/registry.hpp"

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
    if (IsKeyColumn(**table, **column) && op_.type) {
      retypes_key_ = true;
      if (Status s = RequireOnlyType(); !s.ok()) return s;
      return key_retype_.Validate(context, op_.table, op_.column, *op_.type, op_.up, op_.down);
    }
    if (!Duplicates()) return {};
    ColumnChange change;
    change.column = op_.column;
    change.type = op_.type;
    change.nullable = op_.nullable;
    change.default_value = op_.default_value;
    change.comment = op_.comment;
    change.up = op_.up;
    change.down = op_.down;
    if (Status s = duplication_.Validate(context, op_.table, {change}); !s.ok()) return s;
    if (op_.check) {
      if (Status s = duplication_.AddCheck(
              context, {op_.check->name, op_.check->constraint, op_.check->no_inherit},
              "check.constraint");
          !s.ok()) {
        return s;
      }
    }
    if (op_.unique) {
      if (Status s = duplication_.AddUnique(context, {op_.unique->name, {op_.column}, false, {}},
                                            "unique.name");
          !s.ok()) {
        return s;
      }
    }
    if (op_.references) {
      const model::ForeignKeyReference& r = *op_.references;
      CopyForeignKey key;
      key.name = r.name;
      key.columns = {op_.column};
      key.table = r.table;
      key.referenced_columns = {r.column};
      key.on_delete = r.on_delete;
      key.on_update = r.on_update;
      key.match_type = r.match_type;
      key.deferrable = r.deferrable;
      key.initially_deferred = r.initially_deferred;
      if (Status s = duplication_.AddForeignKey(context, key, "references"); !s.ok()) return s;
    }
    return {};
  }

  void Plan(PlanContext& context) override {
    if (retypes_key_) {
      key_retype_.Plan(context);
      return;
    }
    if (!Duplicates()) {
      VirtualTable& table = *context.FindTable(op_.table);
      PlanMetadataOnly(context, table, *table.FindColumn(op_.column));
      return;
    }
    duplication_.Plan(context);
  }

 private:
  // A key column's type change copies the table (KeyRetype); the other changes need a copy of
  // the column beside the original, which a key cannot have.
  Status RequireOnlyType() const {
    const char* other = op_.nullable                    ? "nullable"
                        : op_.check                     ? "check"
                        : op_.unique                    ? "unique"
                        : op_.references                ? "references"
                        : !op_.default_value.IsAbsent() ? "default"
                        : !op_.comment.IsAbsent()       ? "comment"
                                                        : nullptr;
    if (other == nullptr) return {};
    return Error(ErrorKind::kInvalidMigration,
                 fmt::format("column \"{}\" is part of the primary key: its type change copies the "
                             "table with a cast, and `{}` cannot go with it",
                             op_.column, other),
                 "Give this operation only `type` (and `up`); make the other change in an "
                 "operation of its own.")
        .WithWhere(fmt::format("field {}", other));
  }

  // Type, nullability and constraints change what values the column may hold, so both versions
  // need a column of their own; default and comment are metadata.
  bool Duplicates() const {
    return op_.type.has_value() || op_.nullable.has_value() || op_.check.has_value() ||
           op_.unique.has_value() || op_.references.has_value();
  }

  void PlanMetadataOnly(PlanContext& context, VirtualTable& table, VirtualColumn& column) {
    pg::Connection& conn = context.conn();
    std::string qualified = CompleteQualified(context, table);
    std::vector<std::string> sql;
    if (!op_.default_value.IsAbsent()) {
      sql.push_back(op_.default_value.HasValue()
                        ? fmt::format("ALTER TABLE {} ALTER COLUMN {} SET DEFAULT {}", qualified,
                                      conn.Ident(op_.column), op_.default_value.value())
                        : fmt::format("ALTER TABLE {} ALTER COLUMN {} DROP DEFAULT", qualified,
                                      conn.Ident(op_.column)));
      if (op_.default_value.HasValue()) column.view_default = op_.default_value.value();
    }
    if (!op_.comment.IsAbsent()) {
      sql.push_back(fmt::format(
          "COMMENT ON COLUMN {}.{} IS {}", qualified, conn.Ident(op_.column),
          op_.comment.HasValue() ? conn.Literal(op_.comment.value()) : std::string("NULL")));
    }
    context.AddComplete(context.Ddl(
        "metadata", fmt::format("set default/comment of {}.{}", table.physical, column.physical),
        "ACCESS EXCLUSIVE, catalog only", sql));
  }

  model::AlterColumn op_;
  ColumnDuplication duplication_;
  bool retypes_key_ = false;
  KeyRetype key_retype_;
};

}  // namespace

std::unique_ptr<OperationPlanner> MakeAlterColumn(const model::AlterColumn& op) {
  return std::make_unique<AlterColumnPlanner>(op);
}

}  // namespace zerodown::engine::ops
