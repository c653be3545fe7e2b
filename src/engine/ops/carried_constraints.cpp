// The checks and foreign keys a table already has over a column ColumnDuplication copies,
// carried over to the copy the way pgroll does it: the copy must satisfy them from start (a
// check through the sync trigger, a foreign key NOT VALID), and complete, which drops the
// original with its constraints, leaves the carried ones under the original names, validated.
#include <algorithm>

#include "engine/ops/column_duplication.hpp"
#include "engine/ops/op_support.hpp"
#include "zerodown/pg/catalog_dependents.hpp"

namespace zerodown::engine::ops {

namespace {

Error CannotCarry(const VirtualColumn& column, const pg::ConstraintInfo& constraint,
                  std::string_view why, const std::string& field) {
  return Error(ErrorKind::kInvalidMigration,
               fmt::format("column \"{}\" is used by constraint \"{}\", which {}", column.name,
                           constraint.name, why),
               "Drop the constraint first (drop_constraint) and add it again after the change "
               "(create_constraint), or change the column in a migration of its own.")
      .WithWhere(fmt::format("field {}", field));
}

// Every column of `constraint` keeps its physical name in the new version (none was renamed
// earlier in this migration), so the constraint's text means the same to both.
bool NamesUnchanged(const VirtualTable& table, const std::vector<std::string>& columns) {
  return std::all_of(columns.begin(), columns.end(), [&](const std::string& physical) {
    auto it = std::find_if(table.columns.begin(), table.columns.end(),
                           [&](const VirtualColumn& v) { return v.physical == physical; });
    return it != table.columns.end() && it->name == physical;
  });
}

model::ForeignKeyAction ActionOf(char code) {
  switch (code) {
    case 'r':
      return model::ForeignKeyAction::kRestrict;
    case 'c':
      return model::ForeignKeyAction::kCascade;
    case 'n':
      return model::ForeignKeyAction::kSetNull;
    case 'd':
      return model::ForeignKeyAction::kSetDefault;
    default:
      return model::ForeignKeyAction::kNoAction;
  }
}

}  // namespace

Status ColumnDuplication::CarryCheck(const VirtualTable& table, const VirtualColumn& column,
                                     const pg::ConstraintInfo& constraint,
                                     const std::string& field) {
  if (!NamesUnchanged(table, constraint.columns)) {
    return CannotCarry(column, constraint, "reads a column renamed earlier in this migration",
                       field);
  }
  bool known = std::any_of(checks_.begin(), checks_.end(),
                           [&](const CopyCheck& c) { return c.name == constraint.name; });
  if (!known) {
    checks_.push_back({constraint.name, constraint.check_expression, constraint.no_inherit,
                       /*carried=*/true, /*validate=*/constraint.validated});
  }
  return {};
}

Status ColumnDuplication::CarryForeignKey(PlanContext& context, const VirtualTable& table,
                                          const VirtualColumn& column,
                                          const pg::ConstraintInfo& constraint,
                                          const std::string& field) {
  std::string temp = PlanContext::TempName("_zd_fk_", constraint.name);
  bool known = std::any_of(foreign_keys_.begin(), foreign_keys_.end(),
                           [&](const CopyForeignKey& k) { return k.name == temp; });
  if (known) return {};
  if (!NamesUnchanged(table, constraint.columns)) {
    return CannotCarry(column, constraint, "reads a column renamed earlier in this migration",
                       field);
  }
  pg::Connection& conn = context.conn();
  std::optional<pg::ForeignKeyTarget> target =
      pg::ForeignKeyNamed(conn, conn.Ident(context.schema(), table.physical), constraint.name);
  if (!target) return CannotCarry(column, constraint, "vanished while planning", field);
  if (target->referenced.schema != context.schema() || target->sets_some_columns) {
    return CannotCarry(column, constraint,
                       "references another schema or sets only some columns on delete", field);
  }
  CopyForeignKey key;
  key.name = temp;
  key.carried_from = constraint.name;
  key.columns = constraint.columns;
  key.table = target->referenced.name;
  key.referenced_columns = target->columns;
  key.on_delete = ActionOf(target->on_delete);
  key.on_update = ActionOf(target->on_update);
  key.match_type = target->match == 'f' ? model::MatchType::kFull : model::MatchType::kSimple;
  key.deferrable = target->deferrable;
  key.initially_deferred = target->deferred;
  foreign_keys_.push_back(std::move(key));
  return {};
}

}  // namespace zerodown::engine::ops
