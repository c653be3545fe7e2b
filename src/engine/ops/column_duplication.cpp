#include "engine/ops/column_duplication.hpp"

#include <algorithm>
#include <map>
#include <set>

#include "engine/ops/op_support.hpp"
#include "zerodown/pg/catalog.hpp"

namespace zerodown::engine::ops {

namespace {

bool Contains(const std::vector<std::string>& list, const std::string& value) {
  return std::find(list.begin(), list.end(), value) != list.end();
}

Error ColumnInUse(const std::string& column, const std::string& what, std::string fix,
                  const std::string& field) {
  return Error(ErrorKind::kInvalidMigration,
               fmt::format("column \"{}\" is used by {}", column, what), std::move(fix))
      .WithWhere(fmt::format("field {}", field));
}

}  // namespace

Result<std::vector<std::string>> ConstraintColumns(PlanContext& context, VirtualTable& table,
                                                   const std::string& name) {
  auto info = table.created ? std::nullopt
                            : pg::DescribeTable(context.conn(), context.schema(), table.physical);
  const pg::ConstraintInfo* constraint = info ? info->FindConstraint(name) : nullptr;
  if (constraint == nullptr) {
    return Error(ErrorKind::kNotFound,
                 fmt::format("constraint \"{}\" does not exist on table \"{}\"", name, table.name),
                 "Check the name (psql: \\d <table>); a constraint created in this migration can "
                 "only be dropped in a later one.")
        .WithWhere("field name");
  }
  if (constraint->type == 'p') {
    return Error(ErrorKind::kInvalidMigration,
                 fmt::format("constraint \"{}\" is the primary key of \"{}\"", name, table.name),
                 "Dropping a primary key online is not supported yet: every online mechanism here "
                 "walks the table by it.")
        .WithWhere("field name");
  }
  std::vector<std::string> columns;
  for (const auto& physical : constraint->columns) {
    auto it = std::find_if(table.columns.begin(), table.columns.end(),
                           [&](const VirtualColumn& c) { return c.physical == physical; });
    if (it == table.columns.end()) {
      return Error(ErrorKind::kInvalidMigration,
                   fmt::format("constraint \"{}\" uses column \"{}\", which this migration "
                               "drops",
                               name, physical),
                   "Drop the constraint in an earlier migration.")
          .WithWhere("field name");
    }
    columns.push_back(it->name);
  }
  if (columns.empty()) {
    return Error(ErrorKind::kInvalidMigration,
                 fmt::format("constraint \"{}\" uses no column", name),
                 "Drop it with an `sql` operation.")
        .WithWhere("field name");
  }
  return columns;
}

Status ColumnDuplication::Validate(PlanContext& context, const std::string& table,
                                   std::vector<ColumnChange> changes,
                                   const std::optional<std::string>& dropping) {
  table_ = table;
  auto found = context.Table(table);
  if (!found.ok()) return found.error().WithWhere("field table");
  VirtualTable& t = **found;
  if (t.key_columns.empty()) return NeedsKey(t);
  std::set<std::string> seen;
  for (const auto& change : changes) {
    if (!seen.insert(change.column).second) {
      return Error(ErrorKind::kInvalidMigration,
                   fmt::format("column \"{}\" is listed twice", change.column),
                   "List each column once.")
          .WithWhere(fmt::format("field {}", change.column_field));
    }
    if (Status s = ValidateColumn(context, t, change, dropping); !s.ok()) return s;
  }
  old_columns_ = t.columns;
  new_columns_ = t.columns;
  for (auto& p : columns_) {
    for (auto& c : new_columns_) {
      if (c.name != p.change.column) continue;
      c.physical = p.new_physical;
      c.type = p.new_type;
      c.pending = true;
    }
  }
  std::string first_field = changes.empty() ? "column" : changes.front().column_field;
  if (Status s = CheckExpressions(context, t, first_field); !s.ok()) return s;
  if (!t.created) {
    std::map<std::string, std::string> copies;
    for (const auto& p : columns_) copies[p.old_physical] = p.new_physical;
    if (Status s = indexes_.Validate(context, t, copies, dropping, first_field); !s.ok()) {
      return s;
    }
  }
  if (Status s = ChooseMechanism(context, t); !s.ok() || !shadow_) return s;
  return RequireNoCopyLeftovers(context, t);
}

Status ColumnDuplication::CheckExpressions(PlanContext& context, VirtualTable& table,
                                           const std::string& first_field) {
  for (const auto& check : checks_) {  // only carried ones: AddCheck comes after Validate
    if (Status s =
            context.CheckExpression(table, new_columns_, check.expression, "boolean", first_field);
        !s.ok()) {
      return s;
    }
  }
  pg::Connection& conn = context.conn();
  for (const auto& p : columns_) {
    std::string up = p.change.up.value_or(conn.Ident(p.change.column));
    if (Status s = context.CheckExpression(table, old_columns_, up, p.new_type, p.change.up_field);
        !s.ok()) {
      return s;
    }
    std::string down = p.change.down.value_or(conn.Ident(p.change.column));
    if (Status s =
            context.CheckExpression(table, new_columns_, down, p.old_type, p.change.down_field);
        !s.ok()) {
      return s;
    }
  }
  return {};
}

Status ColumnDuplication::ValidateColumn(PlanContext& context, VirtualTable& table,
                                         const ColumnChange& change,
                                         const std::optional<std::string>& dropping) {
  auto column = RequireColumn(table, change.column, change.column_field);
  if (!column.ok()) return column.error();
  const VirtualColumn& c = **column;
  if (IsKeyColumn(table, c)) {
    return Error(ErrorKind::kInvalidMigration,
                 fmt::format("column \"{}\" is part of the primary key of \"{}\"", c.name,
                             table.name),
                 "A primary-key column cannot get a copy (it is the key both versions and the "
                 "copy are kept in step by); changing its type online is not supported yet.")
        .WithWhere(fmt::format("field {}", change.column_field));
  }
  if (c.physical.rfind(kCopyPrefix, 0) == 0) {
    return Error(ErrorKind::kInvalidMigration,
                 fmt::format("column \"{}\" is already copied by an earlier operation of this "
                             "migration",
                             c.name),
                 "Fold both changes into one operation, or put the second one in a migration of "
                 "its own.")
        .WithWhere(fmt::format("field {}", change.column_field));
  }
  if (change.type) {
    if (Status s = context.CheckType(*change.type, change.type_field); !s.ok()) {
      return s;
    }
  }
  Prepared p;
  p.change = change;
  p.old_physical = c.physical;
  p.new_physical = PlanContext::TempName(kCopyPrefix, c.name);
  p.old_type = c.type;
  p.new_type = change.type.value_or(c.type);
  p.not_null = change.nullable ? !*change.nullable : !c.nullable;
  p.final_default =
      change.default_value.IsAbsent()
          ? c.default_expr
          : (change.default_value.HasValue() ? std::optional(change.default_value.value())
                                             : std::nullopt);
  if (change.comment.HasValue()) p.final_comment = change.comment.value();

  if (!table.created && !c.pending) {
    if (Status s = ReadOriginal(context, table, c, change, dropping, p); !s.ok()) return s;
  }
  columns_.push_back(std::move(p));
  return {};
}

Status ColumnDuplication::ReadOriginal(PlanContext& context, VirtualTable& table,
                                       const VirtualColumn& c, const ColumnChange& change,
                                       const std::optional<std::string>& dropping, Prepared& p) {
  pg::Connection& conn = context.conn();
  auto info = pg::DescribeTable(conn, context.schema(), table.physical);
  if (!info) return {};
  const pg::ColumnInfo* physical = info->FindColumn(c.physical);
  if (physical && (physical->identity || physical->generated)) {
    return Error(ErrorKind::kInvalidMigration,
                 fmt::format("column \"{}\" is an identity or generated column", c.name),
                 "A copy of it cannot be kept in step by a trigger; change it with `sql`.")
        .WithWhere(fmt::format("field {}", change.column_field));
  }
  if (Status s = CarryConstraints(context, table, *info, c, change, dropping); !s.ok()) return s;
  std::string regclass = conn.Ident(context.schema(), table.physical);
  auto referencing = pg::KeysReferencingColumn(conn, regclass, c.physical);
  if (!referencing.empty()) {
    return ColumnInUse(c.name,
                       fmt::format("foreign key \"{}\" of table {}", referencing.front().name,
                                   referencing.front().table),
                       "Drop that foreign key first and add it again after the change.",
                       change.column_field);
  }
  if (change.comment.IsAbsent()) p.final_comment = pg::ColumnComment(conn, regclass, c.physical);
  // serial columns: the sequence is owned by (and would be dropped with) the original.
  p.owned_sequences = pg::SequencesOwnedByColumn(conn, regclass, c.physical);
  return {};
}

// Dropping the original at complete would silently take these with it. Indexes and the unique
// constraints they back are carried over to the copy (IndexDuplication), checks as checks the
// copies must satisfy (CarryCheck), foreign keys as keys on the copies (CarryForeignKey).
Status ColumnDuplication::CarryConstraints(PlanContext& context, VirtualTable& table,
                                           const pg::TableInfo& info, const VirtualColumn& c,
                                           const ColumnChange& change,
                                           const std::optional<std::string>& dropping) {
  for (const auto& constraint : info.constraints) {
    if (!Contains(constraint.columns, c.physical)) continue;
    if (dropping && constraint.name == *dropping) continue;
    if (constraint.type == 'u') continue;
    if (constraint.type == 'c' || constraint.type == 'f') {
      Status s = constraint.type == 'c'
                     ? CarryCheck(table, c, constraint, change.column_field)
                     : CarryForeignKey(context, table, c, constraint, change.column_field);
      if (!s.ok()) return s;
      continue;
    }
    return ColumnInUse(c.name, fmt::format("constraint \"{}\"", constraint.name),
                       "Drop the constraint first (drop_constraint) and add it again after "
                       "the change (create_constraint).",
                       change.column_field);
  }
  return {};
}

Result<std::string> ColumnDuplication::CopyOf(const std::string& column,
                                              std::string_view field) const {
  for (const auto& p : columns_) {
    if (p.change.column == column) return p.new_physical;
  }
  return Error(ErrorKind::kInvalidMigration,
               fmt::format("column \"{}\" is not among the columns the operation changes", column),
               "List it in `columns` (with its up and down).")
      .WithWhere(fmt::format("field {}", field));
}

std::vector<std::string> ColumnDuplication::CopiesOf(const std::vector<std::string>& names) const {
  std::vector<std::string> out;
  for (const auto& n : names) {
    auto copy = CopyOf(n, "");
    out.push_back(copy.ok() ? copy.value() : n);
  }
  return out;
}

}  // namespace zerodown::engine::ops
