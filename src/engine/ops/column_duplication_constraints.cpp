// The constraints ColumnDuplication puts on the copies (checks, unique constraints, foreign keys):
// each is checked against the catalog and the new version's columns before it is recorded.
#include <set>

#include "engine/ops/column_duplication.hpp"
#include "engine/ops/op_support.hpp"
#include "zerodown/pg/catalog.hpp"

namespace zerodown::engine::ops {

Status ColumnDuplication::RequireFreeConstraintName(PlanContext& context, const std::string& name,
                                                    std::string_view field, bool index_too) {
  VirtualTable& table = *context.FindTable(table_);
  pg::Connection& conn = context.conn();
  if (!table.created) {
    auto info = pg::DescribeTable(conn, context.schema(), table.physical);
    if (info && info->FindConstraint(name)) {
      return Error(
                 ErrorKind::kInvalidMigration,
                 fmt::format("constraint \"{}\" already exists on table \"{}\"", name, table.name),
                 "Pick another name, or drop the existing constraint first.")
          .WithWhere(fmt::format("field {}", field));
    }
  }
  if (index_too && RelationExists(context, name)) {
    return Error(ErrorKind::kInvalidMigration,
                 fmt::format("a relation named \"{}\" already exists in schema \"{}\"", name,
                             context.schema()),
                 "A unique constraint's index takes the constraint's name: pick another name.")
        .WithWhere(fmt::format("field {}", field));
  }
  return {};
}

Status ColumnDuplication::AddCheck(PlanContext& context, CopyCheck check, std::string_view field) {
  if (Status s = RequireFreeConstraintName(context, check.name, field, false); !s.ok()) return s;
  VirtualTable& table = *context.FindTable(table_);
  if (Status s = context.CheckExpression(table, new_columns_, check.expression, "boolean", field);
      !s.ok()) {
    return s;
  }
  checks_.push_back(std::move(check));
  return {};
}

Status ColumnDuplication::RequireCopied(const std::vector<std::string>& columns,
                                        std::string_view field) const {
  for (const auto& c : columns) {
    if (auto copy = CopyOf(c, field); !copy.ok()) return copy.error();
  }
  return {};
}

Status ColumnDuplication::AddUnique(PlanContext& context, CopyUnique unique,
                                    std::string_view field) {
  if (Status s = RequireFreeConstraintName(context, unique.name, field, true); !s.ok()) return s;
  if (Status s = RequireCopied(unique.columns, field); !s.ok()) return s;
  if (unique.parameters) {
    VirtualTable& table = *context.FindTable(table_);
    for (const auto& c : unique.parameters->include_columns) {
      if (auto r = RequireColumn(table, c, field); !r.ok()) return r.error();
    }
  }
  uniques_.push_back(std::move(unique));
  return {};
}

Status ColumnDuplication::AddForeignKey(PlanContext& context, CopyForeignKey key,
                                        std::string_view field) {
  if (Status s = RequireFreeConstraintName(context, key.name, field, false); !s.ok()) return s;
  if (Status s = RequireCopied(key.columns, field); !s.ok()) return s;
  if (Status s = RequireCopied(key.on_delete_set_columns, field); !s.ok()) return s;
  if (key.match_type == model::MatchType::kPartial) {
    return Error(ErrorKind::kInvalidMigration, "MATCH PARTIAL is not implemented by PostgreSQL",
                 "Use SIMPLE or FULL.")
        .WithWhere(fmt::format("field {}", field));
  }
  auto referenced = context.Table(key.table);
  if (!referenced.ok()) return referenced.error().WithWhere(fmt::format("field {}", field));
  VirtualTable& ref = **referenced;
  if (ref.name == table_) {
    return Error(ErrorKind::kInvalidMigration,
                 "a foreign key from changed columns to their own table is not supported",
                 "Add it with `sql` (NOT VALID, then VALIDATE CONSTRAINT).")
        .WithWhere(fmt::format("field {}", field));
  }
  std::vector<std::string> physical;
  for (const auto& c : key.referenced_columns) {
    auto column = RequireColumn(ref, c, field);
    if (!column.ok()) return column.error();
    if ((*column)->physical.rfind(kCopyPrefix, 0) == 0 || ((*column)->pending && !ref.created)) {
      return Error(ErrorKind::kInvalidMigration,
                   fmt::format("referenced column \"{}\" changes in this migration", c),
                   "Reference it in a later migration.")
          .WithWhere(fmt::format("field {}", field));
    }
    physical.push_back((*column)->physical);
  }
  if (!ref.created) {
    if (Status s = RequireReferencedKey(context, ref, physical, field); !s.ok()) return s;
  }
  key.table = ref.physical;
  key.referenced_columns = physical;
  foreign_keys_.push_back(std::move(key));
  return {};
}

Status ColumnDuplication::RequireReferencedKey(PlanContext& context, const VirtualTable& ref,
                                               const std::vector<std::string>& physical,
                                               std::string_view field) const {
  auto info = pg::DescribeTable(context.conn(), context.schema(), ref.physical);
  bool keyed = false;
  for (const auto& index : info ? info->indexes : std::vector<pg::IndexInfo>{}) {
    std::set<std::string> a(index.columns.begin(), index.columns.end());
    std::set<std::string> b(physical.begin(), physical.end());
    if (index.unique && index.valid && a == b && a.size() == index.columns.size() &&
        index.definition.find(" WHERE ") == std::string::npos) {
      keyed = true;
    }
  }
  if (!keyed) {
    return Error(ErrorKind::kInvalidMigration,
                 fmt::format("no unique constraint or primary key of \"{}\" covers exactly the "
                             "referenced columns",
                             ref.name),
                 "Reference the primary key, or create a unique constraint on those columns "
                 "first.")
        .WithWhere(fmt::format("field {}", field));
  }
  return {};
}

}  // namespace zerodown::engine::ops
