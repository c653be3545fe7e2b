// Decoding constraints: the table constraints of create_table and the create_constraint
// operation, and which fields each constraint type allows and needs.
#include <algorithm>

#include "model/decoder_internal.hpp"

namespace zerodown::model::internal {
namespace {

// The fields that make no sense for `type`.
void ForbidFields(const Object& o, ConstraintType type, const Constraint& c) {
  std::string kind = std::string(EnumName(type));
  auto forbid = [&](bool present, std::string_view key) {
    if (present) {
      o.Fail(key, "a " + kind + " constraint cannot have " + Quote(key),
             "Remove `" + std::string(key) + "`, or change `type`.");
    }
  };
  bool has_index_parameters = c.index_parameters && *c.index_parameters != IndexParameters{};
  forbid(type != ConstraintType::kCheck && c.check.has_value(), "check");
  forbid(type != ConstraintType::kForeignKey && c.references.has_value(), "references");
  forbid(type != ConstraintType::kExclude && c.exclude.has_value(), "exclude");
  forbid(type != ConstraintType::kCheck && c.no_inherit, "no_inherit");
  forbid(type == ConstraintType::kCheck && c.deferrable, "deferrable");
  forbid(type == ConstraintType::kCheck && c.initially_deferred, "initially_deferred");
  forbid((type == ConstraintType::kCheck || type == ConstraintType::kForeignKey) &&
             has_index_parameters,
         "index_parameters");
  forbid(type != ConstraintType::kUnique && c.nulls_not_distinct, "nulls_not_distinct");
  forbid(type == ConstraintType::kExclude && !c.columns.empty(), "columns");
}

void RequireForeignKeyFields(const Object& o, const Constraint& c) {
  if (c.columns.empty()) {
    o.Fail("columns", "a foreign key constraint needs columns",
           "Add `columns:` with the referencing column names.");
  }
  if (!c.references) {
    o.Fail("references", "a foreign key constraint needs `references`",
           "Add `references:` with `table` and `columns`.");
  }
  if (c.references->columns.size() != c.columns.size()) {
    o.Fail("references.columns",
           "the foreign key has " + std::to_string(c.columns.size()) + " columns but references " +
               std::to_string(c.references->columns.size()),
           "List as many referenced columns as referencing columns.");
  }
  for (const auto& name : c.references->on_delete_set_columns) {
    if (std::find(c.columns.begin(), c.columns.end(), name) == c.columns.end()) {
      o.Fail("references.on_delete_set_columns",
             Quote(name) + " is not one of the constraint's columns",
             "List only names from `columns`.");
    }
  }
}

// The fields `type` cannot do without.
void RequireFields(const Object& o, ConstraintType type, const Constraint& c) {
  switch (type) {
    case ConstraintType::kUnique:
    case ConstraintType::kPrimaryKey:
      if (c.columns.empty()) {
        o.Fail("columns", "a " + std::string(EnumName(type)) + " constraint needs columns",
               "Add `columns:` with the column names.");
      }
      break;
    case ConstraintType::kCheck:
      if (!c.check) {
        o.Fail("check", "a check constraint needs its expression",
               "Add `check: <SQL boolean expression>`.");
      }
      break;
    case ConstraintType::kForeignKey:
      RequireForeignKeyFields(o, c);
      break;
    case ConstraintType::kExclude:
      if (!c.exclude) {
        o.Fail("exclude", "an exclude constraint needs `exclude`",
               "Add `exclude:` with `elements` (e.g. `title WITH =`).");
      }
      break;
  }
}

// Every constraint column has an expression in `up` and `down`, and nothing else has one.
void CheckUpDownColumns(const Object& o, const CreateConstraint& op) {
  for (std::string_view side : {"up", "down"}) {
    const auto& sql = side == "up" ? op.up : op.down;
    for (const auto& column : op.columns) {
      if (!sql.contains(column)) {
        o.Fail(side, "no `" + std::string(side) + "` expression for column " + Quote(column),
               "Add `" + column + ": <SQL expression>` under `" + std::string(side) +
                   ":` (the column name alone keeps values as they are).");
      }
    }
    for (const auto& [column, expression] : sql) {
      if (std::find(op.columns.begin(), op.columns.end(), column) == op.columns.end()) {
        o.Fail(std::string(side) + "." + column,
               Quote(column) + " is not one of the constraint's columns",
               "Remove it, or add it to `columns`.");
      }
    }
  }
}

// The required `type` field.
ConstraintType RequiredType(const Object& o, const std::string& choices) {
  if (!o.Has("type")) {
    o.Fail("type", "the required field 'type' is missing", "Add `type:` with one of " + choices);
  }
  return *o.OptEnum<ConstraintType>("type");
}

}  // namespace

void Decoder::CheckConstraintFields(const Object& o, ConstraintType type, const Constraint& c) {
  ForbidFields(o, type, c);
  RequireFields(o, type, c);
  CheckDeferral(o, c.deferrable, c.initially_deferred);
}

Constraint Decoder::DecodeConstraint(const Object& o) {
  Constraint c;
  c.name = o.Identifier("name");
  c.type = RequiredType(o, EnumChoices<ConstraintType>() + ".");
  c.columns = o.IdentifierList("columns", /*required=*/false);
  c.deferrable = o.Bool("deferrable");
  c.initially_deferred = o.Bool("initially_deferred");
  c.nulls_not_distinct = o.Bool("nulls_not_distinct");
  c.no_inherit = o.Bool("no_inherit");
  c.check = o.OptString("check");
  if (o.Has("references")) c.references = DecodeTableReference(o);
  if (o.Has("exclude")) {
    Object e = o.Sub("exclude", "exclude", {"index_method", "elements", "predicate"});
    ExcludeConstraint exclude;
    exclude.index_method = e.OptString("index_method");
    exclude.elements = e.String("elements", "title WITH =");
    exclude.predicate = e.OptString("predicate");
    c.exclude = exclude;
  }
  if (o.Has("index_parameters")) c.index_parameters = DecodeIndexParameters(o);
  CheckConstraintFields(o, c.type, c);
  return c;
}

CreateConstraint Decoder::DecodeCreateConstraint(const Object& o) {
  CreateConstraint op;
  op.table = o.Identifier("table");
  op.name = o.Identifier("name");
  op.type = RequiredType(o, "'unique', 'check', 'primary_key', 'foreign_key'.");
  if (op.type == ConstraintType::kExclude) {
    o.Fail("type", "create_constraint cannot create an exclude constraint",
           "Write one of 'unique', 'check', 'primary_key', 'foreign_key'; exclude constraints are "
           "only available in create_table.");
  }
  op.columns = o.IdentifierList("columns", /*required=*/false);
  op.check = o.OptString("check");
  op.no_inherit = o.Bool("no_inherit");
  if (o.Has("index_parameters")) op.index_parameters = DecodeIndexParameters(o);
  if (o.Has("references")) op.references = DecodeTableReference(o);
  op.up = o.SqlMap("up", /*required=*/true);
  op.down = o.SqlMap("down", /*required=*/true);

  Constraint shape;
  shape.type = op.type;
  shape.columns = op.columns;
  shape.check = op.check;
  shape.no_inherit = op.no_inherit;
  shape.index_parameters = op.index_parameters;
  shape.references = op.references;
  CheckConstraintFields(o, op.type, shape);
  CheckUpDownColumns(o, op);
  return op;
}

}  // namespace zerodown::model::internal
