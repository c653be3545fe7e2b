// Decoding the table and column operations: create_table, add_column, alter_column,
// rebuild_table.
#include <algorithm>
#include <iterator>

#include "model/decoder_internal.hpp"

namespace zerodown::model::internal {
namespace {

const std::vector<std::string_view> kColumnKeys = {"name",    "type",     "nullable", "default",
                                                   "pk",      "unique",   "check",    "references",
                                                   "comment", "generated"};

// The optional new `type`; an empty string there is a mistake, not "no change".
std::optional<std::string> NewType(const Object& o) {
  if (const Json* type = o.Find("type");
      type != nullptr && type->is_string() && type->get<std::string>().empty()) {
    o.Fail("type", "the new type is empty", "Write the new type, e.g. `type: bigint`.");
  }
  return o.OptString("type");
}

// The path of the i-th (0-based) item of list `key`, as messages show it (1-based).
std::string ItemPath(std::string_view key, size_t i) {
  return std::string(key) + "[" + std::to_string(i + 1) + "]";
}

}  // namespace

std::vector<Column> Decoder::DecodeTableColumns(const Object& o) {
  const Json& list = o.List("columns", /*required=*/true);
  if (list.empty()) {
    o.Fail("columns", "a table needs at least one column",
           "Add `columns:` with at least `- name: id` and `type: ...`.");
  }
  std::vector<Column> columns;
  for (size_t i = 0; i < list.size(); ++i) {
    Object c(*this, list[i], ItemPath("columns", i), "a column", kColumnKeys);
    Column column = DecodeColumn(c);
    for (const auto& earlier : columns) {
      if (earlier.name == column.name) {
        c.Fail("name", "the column " + Quote(column.name) + " is defined twice",
               "Give each column its own name, or remove one of them.");
      }
    }
    columns.push_back(std::move(column));
  }
  return columns;
}

void Decoder::DecodeTableConstraints(const Object& o, CreateTable& op) {
  const Json& list = o.List("constraints", /*required=*/false);
  bool has_pk_column =
      std::any_of(op.columns.begin(), op.columns.end(), [](const Column& c) { return c.pk; });
  auto is_column = [&op](const std::string& name) {
    return std::any_of(op.columns.begin(), op.columns.end(),
                       [&name](const Column& c) { return c.name == name; });
  };
  for (size_t i = 0; i < list.size(); ++i) {
    Object c(*this, list[i], ItemPath("constraints", i), "a constraint",
             {"name", "columns", "type", "deferrable", "initially_deferred", "nulls_not_distinct",
              "no_inherit", "check", "references", "exclude", "index_parameters"});
    Constraint constraint = DecodeConstraint(c);
    for (const auto& earlier : op.constraints) {
      if (earlier.name == constraint.name) {
        c.Fail("name", "the constraint " + Quote(constraint.name) + " is defined twice",
               "Give each constraint its own name.");
      }
    }
    if (constraint.type == ConstraintType::kPrimaryKey && has_pk_column) {
      c.Fail("type",
             "the primary key is set twice: by `pk: true` on a column and by this constraint",
             "Keep either `pk: true` on the columns or the primary_key constraint, not both.");
    }
    std::vector<std::string> used = constraint.columns;
    if (constraint.index_parameters) {
      used.insert(used.end(), constraint.index_parameters->include_columns.begin(),
                  constraint.index_parameters->include_columns.end());
    }
    for (const auto& name : used) {
      if (!is_column(name)) {
        c.Fail("columns", Quote(name) + " is not a column of table " + Quote(op.name),
               "Use one of the names under `columns` of this create_table.");
      }
    }
    op.constraints.push_back(std::move(constraint));
  }
}

CreateTable Decoder::DecodeCreateTable(const Object& o) {
  CreateTable op;
  op.name = o.Identifier("name");
  op.columns = DecodeTableColumns(o);
  op.comment = o.OptString("comment");
  DecodeTableConstraints(o, op);
  return op;
}

AddColumn Decoder::DecodeAddColumn(const Object& o) {
  AddColumn op;
  op.table = o.Identifier("table");
  if (!o.Has("column")) {
    o.Fail("column", "the required field 'column' is missing",
           "Add `column:` with at least `name` and `type`.");
  }
  op.column = DecodeColumn(o.Sub("column", "a column", kColumnKeys));
  op.up = o.OptString("up");
  if (op.column.pk) {
    // As pgroll: a table has one primary key, and a new key column would need a unique value in
    // every existing row and in every row the previous version inserts without knowing it.
    o.Fail("column.pk",
           "add_column cannot add a primary key column: a table has one primary key, and a new "
           "key column would need a unique, non-NULL value in every existing row and in every "
           "row the previous version goes on inserting without knowing the column",
           "On a new table, declare the key in create_table (`pk: true`); on a table without "
           "one, add the column without `pk`, fill it, then make it the key with a "
           "create_constraint of type primary_key (its index is built concurrently).");
  }
  static constexpr std::string_view kSerialTypes[] = {"smallserial", "serial", "bigserial"};
  bool implicit_default = std::find(std::begin(kSerialTypes), std::end(kSerialTypes),
                                    op.column.type) != std::end(kSerialTypes);
  if (!op.column.nullable && !op.column.default_value && !op.up && !implicit_default &&
      !op.column.generated) {
    o.Fail("up",
           "the column is NOT NULL (the default) without a default, so existing rows need `up`",
           "Add `up: <SQL expression>` to fill existing rows, or a `default`, or "
           "`nullable: true`.");
  }
  return op;
}

AlterColumn Decoder::DecodeAlterColumn(const Object& o) {
  AlterColumn op;
  op.table = o.Identifier("table");
  op.column = o.Identifier("column");
  op.up = o.OptString("up");
  op.down = o.OptString("down");
  op.type = NewType(o);
  op.nullable = o.OptBool("nullable");
  op.default_value = o.NullableString("default");
  if (o.Has("check")) op.check = DecodeCheck(o);
  if (o.Has("unique")) {
    Object u = o.Sub("unique", "unique", {"name"});
    op.unique = UniqueConstraint{u.Identifier("name")};
  }
  if (o.Has("references")) op.references = DecodeReference(o);
  op.comment = o.NullableString("comment");
  bool changes = op.type || op.nullable || !op.default_value.IsAbsent() || op.check || op.unique ||
                 op.references || !op.comment.IsAbsent();
  if (!changes) {
    o.Fail("", "alter_column changes nothing",
           "Add at least one of type, nullable, default, check, unique, references, comment; to "
           "rename the column use rename_column.");
  }
  return op;
}

RebuildColumn Decoder::DecodeRebuildColumn(const Object& c, const RebuildTable& op) {
  RebuildColumn column;
  column.column = c.Identifier("column");
  column.type = NewType(c);
  column.nullable = c.OptBool("nullable");
  column.default_value = c.NullableString("default");
  column.comment = c.NullableString("comment");
  column.up = c.OptString("up");
  column.down = c.OptString("down");
  for (const auto& earlier : op.columns) {
    if (earlier.column == column.column) {
      c.Fail("column", "the column " + Quote(column.column) + " is listed twice",
             "List each column once, with all its changes.");
    }
  }
  if (!column.type && !column.nullable && column.default_value.IsAbsent() &&
      column.comment.IsAbsent() && !column.up) {
    c.Fail("", "the column change changes nothing",
           "Give at least one of type, nullable, default, comment or up.");
  }
  return column;
}

RebuildTable Decoder::DecodeRebuildTable(const Object& o) {
  RebuildTable op;
  op.table = o.Identifier("table");
  const Json& columns = o.List("columns", /*required=*/false);
  for (size_t i = 0; i < columns.size(); ++i) {
    Object c(*this, columns[i], ItemPath("columns", i), "a column change",
             {"column", "type", "nullable", "default", "comment", "up", "down"});
    op.columns.push_back(DecodeRebuildColumn(c, op));
  }
  op.alter = o.OptString("alter");
  if (op.alter && op.alter->find_first_not_of(" \t\r\n") == std::string::npos) {
    o.Fail("alter", "the ALTER TABLE clauses are empty",
           "Write the clauses as after `ALTER TABLE <table>`, e.g. `alter: ALTER COLUMN id TYPE "
           "bigint`, or remove the field.");
  }
  return op;
}

}  // namespace zerodown::model::internal
