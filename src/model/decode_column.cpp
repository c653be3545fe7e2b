// Decoding the parts that several operations share: a column, a check, a foreign key reference,
// index parameters.
#include "model/decoder_internal.hpp"

namespace zerodown::model::internal {

CheckConstraint Decoder::DecodeCheck(const Object& parent) {
  Object o = parent.Sub("check", "a check", {"name", "constraint", "no_inherit"});
  CheckConstraint check;
  check.name = o.Identifier("name");
  check.constraint = o.String("constraint", "length(name) > 0");
  check.no_inherit = o.Bool("no_inherit");
  return check;
}

void CheckDeferral(const Object& o, bool deferrable, bool initially_deferred) {
  if (initially_deferred && !deferrable) {
    o.Fail("initially_deferred", "a constraint that is INITIALLY DEFERRED must be DEFERRABLE",
           "Add `deferrable: true`, or remove `initially_deferred`.");
  }
}

ForeignKeyReference Decoder::DecodeReference(const Object& parent) {
  Object o = parent.Sub("references", "a foreign key reference",
                        {"name", "table", "column", "on_delete", "on_update", "match_type",
                         "deferrable", "initially_deferred"});
  ForeignKeyReference ref;
  ref.name = o.Identifier("name");
  ref.table = o.Identifier("table");
  ref.column = o.Identifier("column");
  ref.on_delete = o.Enum("on_delete", ForeignKeyAction::kNoAction);
  ref.on_update = o.Enum("on_update", ForeignKeyAction::kNoAction);
  ref.match_type = o.Enum("match_type", MatchType::kSimple);
  ref.deferrable = o.Bool("deferrable");
  ref.initially_deferred = o.Bool("initially_deferred");
  CheckDeferral(o, ref.deferrable, ref.initially_deferred);
  return ref;
}

TableForeignKeyReference Decoder::DecodeTableReference(const Object& parent) {
  Object o = parent.Sub(
      "references", "a table foreign key reference",
      {"table", "columns", "match_type", "on_update", "on_delete", "on_delete_set_columns"});
  TableForeignKeyReference ref;
  ref.table = o.Identifier("table");
  ref.columns = o.IdentifierList("columns", /*required=*/true);
  ref.on_delete = o.Enum("on_delete", ForeignKeyAction::kNoAction);
  ref.on_update = o.Enum("on_update", ForeignKeyAction::kNoAction);
  ref.match_type = o.Enum("match_type", MatchType::kSimple);
  ref.on_delete_set_columns = o.IdentifierList("on_delete_set_columns", /*required=*/false);
  if (!ref.on_delete_set_columns.empty() && ref.on_delete != ForeignKeyAction::kSetNull &&
      ref.on_delete != ForeignKeyAction::kSetDefault) {
    o.Fail("on_delete_set_columns",
           "on_delete_set_columns only applies when on_delete is SET NULL or SET DEFAULT",
           "Set `on_delete: SET NULL` (or SET DEFAULT), or remove on_delete_set_columns.");
  }
  return ref;
}

IndexParameters Decoder::DecodeIndexParameters(const Object& parent) {
  Object o = parent.Sub("index_parameters", "index_parameters",
                        {"tablespace", "storage_parameters", "include_columns"});
  IndexParameters params;
  params.tablespace = o.OptIdentifier("tablespace");
  params.storage_parameters = o.OptString("storage_parameters");
  params.include_columns = o.IdentifierList("include_columns", /*required=*/false);
  return params;
}

GeneratedColumn Decoder::DecodeGenerated(const Object& g) {
  GeneratedColumn generated;
  generated.expression = g.OptString("expression");
  if (g.Has("identity")) {
    Object i = g.Sub("identity", "identity", {"sequence_options", "user_specified_values"});
    IdentityOptions identity;
    identity.sequence_options = i.OptString("sequence_options");
    identity.user_specified_values = i.Enum("user_specified_values", IdentityKind::kAlways);
    generated.identity = identity;
  }
  if (generated.expression && generated.identity) {
    g.Fail("", "a generated column has either an expression or an identity, not both",
           "Keep `expression` for a computed column or `identity` for an identity column.");
  }
  if (!generated.expression && !generated.identity) {
    g.Fail("", "generated needs an expression or an identity",
           "Add `expression: <SQL>` or `identity: {}`.");
  }
  return generated;
}

Column Decoder::DecodeColumn(const Object& o) {
  Column column;
  column.name = o.Identifier("name");
  column.type = o.String("type", "text");
  column.nullable = o.Bool("nullable");
  column.default_value = o.OptString("default");
  column.pk = o.Bool("pk");
  column.unique = o.Bool("unique");
  if (o.Has("check")) column.check = DecodeCheck(o);
  if (o.Has("references")) column.references = DecodeReference(o);
  column.comment = o.OptString("comment");
  if (o.Has("generated")) {
    column.generated = DecodeGenerated(o.Sub("generated", "generated", {"expression", "identity"}));
    if (column.default_value) {
      o.Fail("default", "a generated column cannot have a default",
             "Remove `default`, or remove `generated`.");
    }
  }
  if (column.pk && column.nullable) {
    o.Fail("nullable", "a primary key column cannot be nullable",
           "Remove `nullable: true`; primary key columns are always NOT NULL.");
  }
  return column;
}

}  // namespace zerodown::model::internal
