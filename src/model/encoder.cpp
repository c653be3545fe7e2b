// ToJson: the canonical JSON form of a migration. Fields equal to their default are left out, so
// the stored form stays small and reads like a hand-written pgroll file; the decoder fills the
// same defaults back in, which is what makes FromJson(ToJson(m)) == m.
#include <type_traits>

#include "model/enum_names.hpp"
#include "zerodown/model/migration_reader.hpp"

namespace zerodown::model {
namespace {

using nlohmann::json;

void PutOpt(json& out, const char* key, const std::optional<std::string>& value) {
  if (value) out[key] = *value;
}
void PutBool(json& out, const char* key, bool value) {
  if (value) out[key] = true;
}
template <typename E>
void PutEnum(json& out, const char* key, E value, E fallback) {
  if (value != fallback) out[key] = std::string(internal::EnumName(value));
}
template <typename E>
void PutOptEnum(json& out, const char* key, const std::optional<E>& value) {
  if (value) out[key] = std::string(internal::EnumName(*value));
}
void PutList(json& out, const char* key, const std::vector<std::string>& values) {
  if (!values.empty()) out[key] = values;
}
void PutNullable(json& out, const char* key, const Nullable<std::string>& value) {
  if (value.IsNull()) out[key] = nullptr;
  if (value.HasValue()) out[key] = value.value();
}

json Encode(const CheckConstraint& check) {
  json out = {{"name", check.name}, {"constraint", check.constraint}};
  PutBool(out, "no_inherit", check.no_inherit);
  return out;
}

json Encode(const ForeignKeyReference& ref) {
  json out = {{"name", ref.name}, {"table", ref.table}, {"column", ref.column}};
  PutEnum(out, "on_delete", ref.on_delete, ForeignKeyAction::kNoAction);
  PutEnum(out, "on_update", ref.on_update, ForeignKeyAction::kNoAction);
  PutEnum(out, "match_type", ref.match_type, MatchType::kSimple);
  PutBool(out, "deferrable", ref.deferrable);
  PutBool(out, "initially_deferred", ref.initially_deferred);
  return out;
}

json Encode(const TableForeignKeyReference& ref) {
  json out = {{"table", ref.table}, {"columns", ref.columns}};
  PutEnum(out, "on_delete", ref.on_delete, ForeignKeyAction::kNoAction);
  PutEnum(out, "on_update", ref.on_update, ForeignKeyAction::kNoAction);
  PutEnum(out, "match_type", ref.match_type, MatchType::kSimple);
  PutList(out, "on_delete_set_columns", ref.on_delete_set_columns);
  return out;
}

json Encode(const IndexParameters& params) {
  json out = json::object();
  PutOpt(out, "tablespace", params.tablespace);
  PutOpt(out, "storage_parameters", params.storage_parameters);
  PutList(out, "include_columns", params.include_columns);
  return out;
}

json Encode(const Column& column) {
  json out = {{"name", column.name}, {"type", column.type}};
  PutBool(out, "nullable", column.nullable);
  PutOpt(out, "default", column.default_value);
  PutBool(out, "pk", column.pk);
  PutBool(out, "unique", column.unique);
  if (column.check) out["check"] = Encode(*column.check);
  if (column.references) out["references"] = Encode(*column.references);
  PutOpt(out, "comment", column.comment);
  if (column.generated) {
    json generated = json::object();
    PutOpt(generated, "expression", column.generated->expression);
    if (const auto& identity = column.generated->identity) {
      json i = json::object();
      PutOpt(i, "sequence_options", identity->sequence_options);
      PutEnum(i, "user_specified_values", identity->user_specified_values, IdentityKind::kAlways);
      generated["identity"] = i;
    }
    out["generated"] = generated;
  }
  return out;
}

json Encode(const Constraint& c) {
  json out = {{"name", c.name}, {"type", std::string(internal::EnumName(c.type))}};
  PutList(out, "columns", c.columns);
  PutBool(out, "deferrable", c.deferrable);
  PutBool(out, "initially_deferred", c.initially_deferred);
  PutBool(out, "nulls_not_distinct", c.nulls_not_distinct);
  PutBool(out, "no_inherit", c.no_inherit);
  PutOpt(out, "check", c.check);
  if (c.references) out["references"] = Encode(*c.references);
  if (c.exclude) {
    json exclude = {{"elements", c.exclude->elements}};
    PutOpt(exclude, "index_method", c.exclude->index_method);
    PutOpt(exclude, "predicate", c.exclude->predicate);
    out["exclude"] = exclude;
  }
  if (c.index_parameters) out["index_parameters"] = Encode(*c.index_parameters);
  return out;
}

json Encode(const IndexField& field) {
  json out = {{"column", field.column}};
  PutOpt(out, "collate", field.collate);
  PutOptEnum(out, "sort", field.sort);
  PutOptEnum(out, "nulls", field.nulls);
  if (field.opclass) {
    json opclass = json::object();
    PutOpt(opclass, "name", field.opclass->name);
    PutList(opclass, "params", field.opclass->params);
    out["opclass"] = opclass;
  }
  return out;
}

json EncodeSqlMap(const std::map<std::string, std::string>& sql) {
  json out = json::object();
  for (const auto& [column, expression] : sql) out[column] = expression;
  return out;
}

json EncodeBody(const CreateTable& op) {
  json out = {{"name", op.name}, {"columns", json::array()}};
  for (const auto& column : op.columns) out["columns"].push_back(Encode(column));
  PutOpt(out, "comment", op.comment);
  if (!op.constraints.empty()) {
    out["constraints"] = json::array();
    for (const auto& c : op.constraints) out["constraints"].push_back(Encode(c));
  }
  return out;
}

json EncodeBody(const AddColumn& op) {
  json out = {{"table", op.table}, {"column", Encode(op.column)}};
  PutOpt(out, "up", op.up);
  return out;
}

json EncodeBody(const AlterColumn& op) {
  json out = {{"table", op.table}, {"column", op.column}};
  PutOpt(out, "up", op.up);
  PutOpt(out, "down", op.down);
  PutOpt(out, "type", op.type);
  if (op.nullable) out["nullable"] = *op.nullable;
  PutNullable(out, "default", op.default_value);
  if (op.check) out["check"] = Encode(*op.check);
  if (op.unique) out["unique"] = {{"name", op.unique->name}};
  if (op.references) out["references"] = Encode(*op.references);
  PutNullable(out, "comment", op.comment);
  return out;
}

json EncodeBody(const RenameColumn& op) {
  return {{"table", op.table}, {"from", op.from}, {"to", op.to}};
}

json EncodeBody(const DropColumn& op) {
  json out = {{"table", op.table}, {"column", op.column}};
  PutOpt(out, "down", op.down);
  return out;
}

json EncodeBody(const RenameTable& op) { return {{"from", op.from}, {"to", op.to}}; }
json EncodeBody(const DropTable& op) { return {{"name", op.name}}; }
json EncodeBody(const DropIndex& op) { return {{"name", op.name}}; }
json EncodeBody(const RebuildTable& op) {
  json out = {{"table", op.table}};
  if (!op.columns.empty()) {
    json columns = json::array();
    for (const auto& c : op.columns) {
      json column = {{"column", c.column}};
      PutOpt(column, "type", c.type);
      if (c.nullable) column["nullable"] = *c.nullable;
      PutNullable(column, "default", c.default_value);
      PutNullable(column, "comment", c.comment);
      PutOpt(column, "up", c.up);
      PutOpt(column, "down", c.down);
      columns.push_back(std::move(column));
    }
    out["columns"] = std::move(columns);
  }
  PutOpt(out, "alter", op.alter);
  return out;
}

json EncodeBody(const CreateIndex& op) {
  json out = {{"name", op.name}, {"table", op.table}, {"columns", json::array()}};
  for (const auto& field : op.columns) out["columns"].push_back(Encode(field));
  PutOpt(out, "predicate", op.predicate);
  PutOptEnum(out, "method", op.method);
  PutOpt(out, "storage_parameters", op.storage_parameters);
  PutBool(out, "unique", op.unique);
  return out;
}

json EncodeBody(const RenameConstraint& op) {
  return {{"table", op.table}, {"from", op.from}, {"to", op.to}};
}

json EncodeBody(const DropConstraint& op) {
  json out = {{"table", op.table}, {"name", op.name}};
  PutOpt(out, "up", op.up);
  PutOpt(out, "down", op.down);
  return out;
}

json EncodeBody(const CreateConstraint& op) {
  json out = {{"table", op.table},
              {"name", op.name},
              {"type", std::string(internal::EnumName(op.type))},
              {"up", EncodeSqlMap(op.up)},
              {"down", EncodeSqlMap(op.down)}};
  PutList(out, "columns", op.columns);
  PutOpt(out, "check", op.check);
  PutBool(out, "no_inherit", op.no_inherit);
  if (op.index_parameters) out["index_parameters"] = Encode(*op.index_parameters);
  if (op.references) out["references"] = Encode(*op.references);
  return out;
}

json EncodeBody(const DropMultiColumnConstraint& op) {
  json out = {{"table", op.table}, {"name", op.name}, {"down", EncodeSqlMap(op.down)}};
  if (!op.up.empty()) out["up"] = EncodeSqlMap(op.up);
  return out;
}

json EncodeBody(const SetReplicaIdentity& op) {
  json identity = {{"type", std::string(internal::EnumName(op.identity.type))}};
  PutOpt(identity, "index", op.identity.index);
  return {{"table", op.table}, {"identity", identity}};
}

json EncodeBody(const RawSql& op) {
  json out = {{"up", op.up}};
  PutOpt(out, "down", op.down);
  PutBool(out, "onComplete", op.on_complete);
  return out;
}

}  // namespace

nlohmann::json ToJson(const Operation& operation) {
  json body = std::visit([](const auto& op) { return EncodeBody(op); }, operation);
  return {{std::string(OperationName(operation)), std::move(body)}};
}

nlohmann::json ToJson(const Migration& migration) {
  json out = {{"name", migration.name}, {"operations", json::array()}};
  PutOpt(out, "version_schema", migration.version_schema);
  for (const auto& operation : migration.operations) out["operations"].push_back(ToJson(operation));
  return out;
}

}  // namespace zerodown::model
