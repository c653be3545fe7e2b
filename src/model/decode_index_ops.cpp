// Decoding the index operations: create_index (with every column form pgroll has written) and
// set_replica_identity.
#include "model/decoder_internal.hpp"

namespace zerodown::model::internal {
namespace {

const std::vector<std::string_view> kIndexFieldKeys = {"column", "collate", "sort", "opclass",
                                                       "nulls"};

}  // namespace

IndexField Decoder::DecodeIndexField(const Object& o, std::optional<std::string> column) {
  IndexField field;
  if (column) {
    field.column = *column;
    CheckIdentifier(o.path(), field.column);
  } else {
    field.column = o.Identifier("column");
  }
  field.collate = o.OptString("collate");
  field.sort = o.OptEnum<SortOrder>("sort");
  field.nulls = o.OptEnum<NullsOrder>("nulls");
  if (o.Has("opclass")) {
    Object c = o.Sub("opclass", "opclass", {"name", "params"});
    IndexOpclass opclass;
    opclass.name = c.OptString("name");
    const Json& params = c.List("params", /*required=*/false);
    for (size_t i = 0; i < params.size(); ++i) {
      if (!params[i].is_string()) {
        c.Fail("params", "expected a list of strings", "Write each parameter as `- name=value`.");
      }
      opclass.params.push_back(params[i].get<std::string>());
    }
    field.opclass = opclass;
  }
  return field;
}

std::vector<IndexField> Decoder::DecodeIndexColumns(const Object& o, const Json& columns) {
  std::vector<IndexField> fields;
  if (columns.is_object()) {
    // pgroll 0.10 to 0.14 wrote {"<column>": {settings}}; the file's key order is the index order.
    for (const auto& [name, settings] : columns.items()) {
      std::string path = o.Field("columns") + "." + name;
      std::vector<std::string_view> keys(kIndexFieldKeys.begin() + 1, kIndexFieldKeys.end());
      // `column: ~` (no settings) is as good as `column: {}`.
      static const Json kNoSettings = Json::object();
      Object s(*this, settings.is_null() ? kNoSettings : settings, path, "an index column", keys);
      fields.push_back(DecodeIndexField(s, name));
    }
  } else if (columns.is_array()) {
    for (size_t i = 0; i < columns.size(); ++i) {
      const Json& item = columns[i];
      std::string path = o.Field("columns") + "[" + std::to_string(i + 1) + "]";
      if (item.is_string()) {
        // pgroll before 0.10: a plain list of column names.
        std::string name = item.get<std::string>();
        CheckIdentifier(path, name);
        IndexField field;
        field.column = std::move(name);
        fields.push_back(std::move(field));
      } else {
        Object s(*this, item, path, "an index column", kIndexFieldKeys);
        fields.push_back(DecodeIndexField(s, std::nullopt));
      }
    }
  } else {
    o.Fail("columns", "expected a list of columns, got " + TypeName(columns),
           "Write one `- column: <name>` line per column.");
  }
  return fields;
}

CreateIndex Decoder::DecodeCreateIndex(const Object& o) {
  CreateIndex op;
  op.name = o.Identifier("name");
  op.table = o.Identifier("table");
  const Json* columns = o.Find("columns");
  if (columns == nullptr || columns->is_null()) {
    o.Fail("columns", "the required field 'columns' is missing",
           "Add `columns:` with one `- column: <name>` line per column.");
  }
  op.columns = DecodeIndexColumns(o, *columns);
  if (op.columns.empty()) {
    o.Fail("columns", "an index needs at least one column",
           "Add `- column: <name>` under `columns:`.");
  }
  op.predicate = o.OptString("predicate");
  op.method = o.OptEnum<IndexMethod>("method");
  op.storage_parameters = o.OptString("storage_parameters");
  op.unique = o.Bool("unique");
  return op;
}

SetReplicaIdentity Decoder::DecodeSetReplicaIdentity(const Object& o) {
  SetReplicaIdentity op;
  op.table = o.Identifier("table");
  if (!o.Has("identity")) {
    o.Fail("identity", "the required field 'identity' is missing",
           "Add `identity:` with `type` (nothing, default, index, full) and, for index, `index`.");
  }
  Object i = o.Sub("identity", "identity", {"type", "index"});
  if (!i.Has("type")) {
    i.Fail("type", "the required field 'type' is missing",
           "Add `type:` with one of " + EnumChoices<ReplicaIdentityType>() + ".");
  }
  op.identity.type = *i.OptEnum<ReplicaIdentityType>("type");
  op.identity.index = i.OptIdentifier("index");
  if (op.identity.type == ReplicaIdentityType::kIndex && !op.identity.index) {
    i.Fail("index", "replica identity 'index' needs the index name",
           "Add `index: <name of a unique index>`.");
  }
  if (op.identity.type != ReplicaIdentityType::kIndex && op.identity.index) {
    i.Fail("index", "an index name only applies to replica identity 'index'",
           "Remove `index`, or set `type: index`.");
  }
  return op;
}

}  // namespace zerodown::model::internal
