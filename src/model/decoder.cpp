#include "model/decoder.hpp"

#include <algorithm>
#include <filesystem>
#include <initializer_list>
#include <set>
#include <string_view>
#include <utility>
#include <vector>

#include "model/enum_names.hpp"

namespace zerodown::model::internal {
namespace {

// PostgreSQL truncates longer names (NAMEDATALEN - 1), so two long names could collide silently.
constexpr size_t kMaxIdentifierBytes = 63;

constexpr std::string_view kOperationNames[] = {"create_table",
                                                "add_column",
                                                "alter_column",
                                                "rename_column",
                                                "drop_column",
                                                "rename_table",
                                                "drop_table",
                                                "create_index",
                                                "drop_index",
                                                "rename_constraint",
                                                "drop_constraint",
                                                "create_constraint",
                                                "drop_multicolumn_constraint",
                                                "set_replica_identity",
                                                "rebuild_table",
                                                "sql"};

// Thrown inside the decoder only; DecodeMigration turns it into a Result.
struct DecodeFailure {
  Error error;
};

std::string TypeName(const Json& value) {
  switch (value.type()) {
    case Json::value_t::null:
      return "null";
    case Json::value_t::boolean:
      return "a boolean";
    case Json::value_t::string:
      return "a string";
    case Json::value_t::object:
      return "an object";
    case Json::value_t::array:
      return "a list";
    default:
      return "a number";
  }
}

std::string Quote(std::string_view text) { return "'" + std::string(text) + "'"; }

std::string Join(const std::vector<std::string_view>& items) {
  std::string text;
  for (auto item : items) {
    if (!text.empty()) text += ", ";
    text += item;
  }
  return text;
}

// The closest candidate, if it is close enough to be a plausible typo.
std::optional<std::string_view> Suggest(std::string_view wrong,
                                        const std::vector<std::string_view>& candidates) {
  std::optional<std::string_view> best;
  size_t best_distance = 0;
  for (auto candidate : candidates) {
    size_t distance = EditDistance(wrong, candidate);
    if (!best || distance < best_distance) {
      best = candidate;
      best_distance = distance;
    }
  }
  size_t limit = std::max<size_t>(wrong.size() <= 3 ? 1 : 2, wrong.size() / 3);
  if (best && best_distance <= limit) return best;
  return std::nullopt;
}

class Decoder;

// One JSON object being decoded: knows its path for messages and which keys it accepts.
class Object {
 public:
  Object(Decoder& decoder, const Json& json, std::string path, std::string_view what,
         std::vector<std::string_view> keys);

  const std::string& path() const { return path_; }
  std::string Field(std::string_view key) const {
    return path_.empty() ? std::string(key) : path_ + "." + std::string(key);
  }
  // The value under `key`, or nullptr when absent.
  const Json* Find(std::string_view key) const {
    auto it = json_.find(std::string(key));
    return it == json_.end() ? nullptr : &*it;
  }
  // Present and not null.
  bool Has(std::string_view key) const {
    const Json* value = Find(key);
    return value != nullptr && !value->is_null();
  }

  std::string String(std::string_view key, std::string_view example) const;
  std::optional<std::string> OptString(std::string_view key) const;
  std::string Identifier(std::string_view key) const;
  std::optional<std::string> OptIdentifier(std::string_view key) const;
  bool Bool(std::string_view key) const;
  std::optional<bool> OptBool(std::string_view key) const;
  Nullable<std::string> NullableString(std::string_view key) const;
  std::vector<std::string> IdentifierList(std::string_view key, bool required) const;
  std::map<std::string, std::string> SqlMap(std::string_view key, bool required) const;
  Object Sub(std::string_view key, std::string_view what, std::vector<std::string_view> keys) const;
  const Json& List(std::string_view key, bool required) const;

  template <typename E>
  std::optional<E> OptEnum(std::string_view key) const {
    auto text = OptString(key);
    if (!text) return std::nullopt;
    auto value = EnumFromName<E>(*text, /*ignore_case=*/true);
    if (!value) BadEnum(key, *text, EnumChoices<E>());
    return value;
  }
  template <typename E>
  E Enum(std::string_view key, E fallback) const {
    return OptEnum<E>(key).value_or(fallback);
  }

  [[noreturn]] void Fail(std::string_view key, std::string message, std::string fix) const;

 private:
  [[noreturn]] void BadEnum(std::string_view key, const std::string& text,
                            const std::string& choices) const;
  std::string StringValue(const Json& value, const std::string& field) const;

  Decoder& decoder_;
  const Json& json_;
  std::string path_;
};

class Decoder {
 public:
  explicit Decoder(const DecodeOptions& options) : options_(options) {}

  Migration DecodeMigrationObject(const Json& json);

  bool from_yaml() const { return options_.from_yaml; }

  [[noreturn]] void Fail(const std::string& field, std::string message, std::string fix) const {
    std::string where = options_.source;
    if (op_index_ > 0) {
      where += ", operation " + std::to_string(op_index_) + " (" + op_name_ + ")";
    }
    if (!field.empty()) where += ", field " + field;
    throw DecodeFailure{
        Error(ErrorKind::kInvalidMigration, std::move(message), std::move(fix)).WithWhere(where)};
  }

  void CheckIdentifier(const std::string& field, const std::string& name) const {
    if (name.empty()) {
      Fail(field, "the name is empty", "Write the name of the table, column or constraint.");
    }
    if (name.size() > kMaxIdentifierBytes) {
      Fail(field,
           "the name " + Quote(name) + " is " + std::to_string(name.size()) +
               " bytes long; PostgreSQL allows at most 63",
           "Use a name of at most 63 bytes.");
    }
  }

 private:
  Operation DecodeOperation(const Json& json);
  CreateTable DecodeCreateTable(const Object& o);
  AddColumn DecodeAddColumn(const Object& o);
  AlterColumn DecodeAlterColumn(const Object& o);
  RebuildTable DecodeRebuildTable(const Object& o);
  CreateIndex DecodeCreateIndex(const Object& o);
  CreateConstraint DecodeCreateConstraint(const Object& o);
  SetReplicaIdentity DecodeSetReplicaIdentity(const Object& o);
  RawSql DecodeRawSql(const Object& o);

  Column DecodeColumn(const Object& o);
  CheckConstraint DecodeCheck(const Object& o);
  ForeignKeyReference DecodeReference(const Object& o);
  TableForeignKeyReference DecodeTableReference(const Object& o);
  IndexParameters DecodeIndexParameters(const Object& o);
  IndexField DecodeIndexField(const Object& o, std::optional<std::string> column);
  Constraint DecodeConstraint(const Object& o);
  void CheckConstraintFields(const Object& o, ConstraintType type, const Constraint& c);

  const DecodeOptions& options_;
  int op_index_ = 0;
  std::string op_name_;
};

Object::Object(Decoder& decoder, const Json& json, std::string path, std::string_view what,
               std::vector<std::string_view> keys)
    : decoder_(decoder), json_(json), path_(std::move(path)) {
  if (!json.is_object()) {
    decoder_.Fail(path_,
                  std::string(what) + " must be an object (a map of fields), not " + TypeName(json),
                  "Write it as `key: value` lines; its fields are: " + Join(keys) + ".");
  }
  for (const auto& [key, value] : json.items()) {
    if (std::find(keys.begin(), keys.end(), key) != keys.end()) continue;
    std::string fix;
    if (auto near = Suggest(key, keys)) {
      fix = "Did you mean " + Quote(*near) + "? ";
    } else {
      fix = "Remove it. ";
    }
    fix += "The fields of " + std::string(what) + " are: " + Join(keys) + ".";
    Fail(key, "unknown field " + Quote(key) + " in " + std::string(what), fix);
  }
}

void Object::Fail(std::string_view key, std::string message, std::string fix) const {
  decoder_.Fail(key.empty() ? path_ : Field(key), std::move(message), std::move(fix));
}

void Object::BadEnum(std::string_view key, const std::string& text,
                     const std::string& choices) const {
  std::string fix = "Write one of " + choices + ".";
  Fail(key, Quote(text) + " is not a valid value for " + std::string(key), fix);
}

std::string Object::StringValue(const Json& value, const std::string& field) const {
  if (value.is_string()) return value.get<std::string>();
  if (value.is_boolean() && decoder_.from_yaml()) return value.get<bool>() ? "true" : "false";
  std::string fix = "Write it as a string";
  if (value.is_number() || value.is_boolean()) {
    fix += " in quotes, e.g. \"" + value.dump() + "\"";
  }
  decoder_.Fail(field, "expected a string, got " + TypeName(value), fix + ".");
}

std::string Object::String(std::string_view key, std::string_view example) const {
  const Json* value = Find(key);
  if (value == nullptr || value->is_null()) {
    Fail(key, "the required field " + Quote(key) + " is missing",
         "Add `" + std::string(key) + ": " + std::string(example) + "`.");
  }
  std::string text = StringValue(*value, Field(key));
  if (text.empty()) {
    Fail(key, "the field " + Quote(key) + " is empty",
         "Write a value, e.g. `" + std::string(key) + ": " + std::string(example) + "`.");
  }
  return text;
}

std::optional<std::string> Object::OptString(std::string_view key) const {
  const Json* value = Find(key);
  if (value == nullptr || value->is_null()) return std::nullopt;
  std::string text = StringValue(*value, Field(key));
  // pgroll treats "" like an absent field; normalising here spares every caller the two cases.
  if (text.empty()) return std::nullopt;
  return text;
}

std::string Object::Identifier(std::string_view key) const {
  std::string name = String(key, "<name>");
  decoder_.CheckIdentifier(Field(key), name);
  return name;
}

std::optional<std::string> Object::OptIdentifier(std::string_view key) const {
  auto name = OptString(key);
  if (name) decoder_.CheckIdentifier(Field(key), *name);
  return name;
}

bool Object::Bool(std::string_view key) const { return OptBool(key).value_or(false); }

std::optional<bool> Object::OptBool(std::string_view key) const {
  const Json* value = Find(key);
  if (value == nullptr || value->is_null()) return std::nullopt;
  if (!value->is_boolean()) {
    Fail(key,
         "expected true or false, got " + TypeName(*value) +
             (value->is_string() ? " " + Quote(value->get<std::string>()) : ""),
         "Write `" + std::string(key) + ": true` or `" + std::string(key) +
             ": false`, without quotes.");
  }
  return value->get<bool>();
}

Nullable<std::string> Object::NullableString(std::string_view key) const {
  const Json* value = Find(key);
  if (value == nullptr) return {};
  if (value->is_null()) return Nullable<std::string>::Null();
  return Nullable<std::string>(StringValue(*value, Field(key)));
}

const Json& Object::List(std::string_view key, bool required) const {
  static const Json kEmpty = Json::array();
  const Json* value = Find(key);
  if (value == nullptr || value->is_null()) {
    if (required) {
      Fail(key, "the required field " + Quote(key) + " is missing",
           "Add `" + std::string(key) + ":` followed by a list.");
    }
    return kEmpty;
  }
  if (!value->is_array()) {
    Fail(key, "expected a list, got " + TypeName(*value),
         "Write one `- item` line per element under `" + std::string(key) + ":`.");
  }
  return *value;
}

std::vector<std::string> Object::IdentifierList(std::string_view key, bool required) const {
  const Json& list = List(key, required);
  if (required && list.empty()) {
    Fail(key, "the list " + Quote(key) + " is empty", "List at least one column name.");
  }
  std::vector<std::string> names;
  for (size_t i = 0; i < list.size(); ++i) {
    std::string field = Field(key) + "[" + std::to_string(i + 1) + "]";
    std::string name = StringValue(list[i], field);
    decoder_.CheckIdentifier(field, name);
    if (std::find(names.begin(), names.end(), name) != names.end()) {
      decoder_.Fail(field, "the name " + Quote(name) + " appears twice", "List each name once.");
    }
    names.push_back(std::move(name));
  }
  return names;
}

std::map<std::string, std::string> Object::SqlMap(std::string_view key, bool required) const {
  const Json* value = Find(key);
  if (value == nullptr || value->is_null()) {
    if (required) {
      Fail(
          key, "the required field " + Quote(key) + " is missing",
          "Add `" + std::string(key) + ":` with one `<column>: <SQL expression>` line per column.");
    }
    return {};
  }
  if (!value->is_object()) {
    Fail(key, "expected a map from column name to SQL expression, got " + TypeName(*value),
         "Write one `<column>: <SQL expression>` line per column under `" + std::string(key) +
             ":`.");
  }
  std::map<std::string, std::string> result;
  for (const auto& [column, sql] : value->items()) {
    std::string field = Field(key) + "." + column;
    decoder_.CheckIdentifier(field, column);
    std::string text = StringValue(sql, field);
    if (text.empty()) {
      decoder_.Fail(field, "the SQL expression for column " + Quote(column) + " is empty",
                    "Write an expression, e.g. the column name itself to keep values as they are.");
    }
    result[column] = std::move(text);
  }
  return result;
}

Object Object::Sub(std::string_view key, std::string_view what,
                   std::vector<std::string_view> keys) const {
  return Object(decoder_, *Find(key), Field(key), what, std::move(keys));
}

// --- Shared pieces ---

CheckConstraint Decoder::DecodeCheck(const Object& o) {
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

ForeignKeyReference Decoder::DecodeReference(const Object& o) {
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

TableForeignKeyReference Decoder::DecodeTableReference(const Object& o) {
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

IndexParameters Decoder::DecodeIndexParameters(const Object& o) {
  IndexParameters params;
  params.tablespace = o.OptIdentifier("tablespace");
  params.storage_parameters = o.OptString("storage_parameters");
  params.include_columns = o.IdentifierList("include_columns", /*required=*/false);
  return params;
}

Column Decoder::DecodeColumn(const Object& o) {
  Column column;
  column.name = o.Identifier("name");
  column.type = o.String("type", "text");
  column.nullable = o.Bool("nullable");
  column.default_value = o.OptString("default");
  column.pk = o.Bool("pk");
  column.unique = o.Bool("unique");
  if (o.Has("check")) {
    column.check = DecodeCheck(o.Sub("check", "a check", {"name", "constraint", "no_inherit"}));
  }
  if (o.Has("references")) {
    column.references = DecodeReference(o.Sub("references", "a foreign key reference",
                                              {"name", "table", "column", "on_delete", "on_update",
                                               "match_type", "deferrable", "initially_deferred"}));
  }
  column.comment = o.OptString("comment");
  if (o.Has("generated")) {
    Object g = o.Sub("generated", "generated", {"expression", "identity"});
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
    if (column.default_value) {
      o.Fail("default", "a generated column cannot have a default",
             "Remove `default`, or remove `generated`.");
    }
    column.generated = generated;
  }
  if (column.pk && column.nullable) {
    o.Fail("nullable", "a primary key column cannot be nullable",
           "Remove `nullable: true`; primary key columns are always NOT NULL.");
  }
  return column;
}

void Decoder::CheckConstraintFields(const Object& o, ConstraintType type, const Constraint& c) {
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
  switch (type) {
    case ConstraintType::kUnique:
    case ConstraintType::kPrimaryKey:
      if (c.columns.empty()) {
        o.Fail("columns", "a " + kind + " constraint needs columns",
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
               "the foreign key has " + std::to_string(c.columns.size()) +
                   " columns but references " + std::to_string(c.references->columns.size()),
               "List as many referenced columns as referencing columns.");
      }
      for (const auto& name : c.references->on_delete_set_columns) {
        if (std::find(c.columns.begin(), c.columns.end(), name) == c.columns.end()) {
          o.Fail("references.on_delete_set_columns",
                 Quote(name) + " is not one of the constraint's columns",
                 "List only names from `columns`.");
        }
      }
      break;
    case ConstraintType::kExclude:
      if (!c.exclude) {
        o.Fail("exclude", "an exclude constraint needs `exclude`",
               "Add `exclude:` with `elements` (e.g. `title WITH =`).");
      }
      break;
  }
  CheckDeferral(o, c.deferrable, c.initially_deferred);
}

Constraint Decoder::DecodeConstraint(const Object& o) {
  Constraint c;
  c.name = o.Identifier("name");
  if (!o.Has("type")) {
    o.Fail("type", "the required field 'type' is missing",
           "Add `type:` with one of " + EnumChoices<ConstraintType>() + ".");
  }
  c.type = *o.OptEnum<ConstraintType>("type");
  c.columns = o.IdentifierList("columns", /*required=*/false);
  c.deferrable = o.Bool("deferrable");
  c.initially_deferred = o.Bool("initially_deferred");
  c.nulls_not_distinct = o.Bool("nulls_not_distinct");
  c.no_inherit = o.Bool("no_inherit");
  c.check = o.OptString("check");
  if (o.Has("references")) {
    c.references = DecodeTableReference(o.Sub(
        "references", "a table foreign key reference",
        {"table", "columns", "match_type", "on_update", "on_delete", "on_delete_set_columns"}));
  }
  if (o.Has("exclude")) {
    Object e = o.Sub("exclude", "exclude", {"index_method", "elements", "predicate"});
    ExcludeConstraint exclude;
    exclude.index_method = e.OptString("index_method");
    exclude.elements = e.String("elements", "title WITH =");
    exclude.predicate = e.OptString("predicate");
    c.exclude = exclude;
  }
  if (o.Has("index_parameters")) {
    c.index_parameters =
        DecodeIndexParameters(o.Sub("index_parameters", "index_parameters",
                                    {"tablespace", "storage_parameters", "include_columns"}));
  }
  CheckConstraintFields(o, c.type, c);
  return c;
}

// --- Operations ---

CreateTable Decoder::DecodeCreateTable(const Object& o) {
  CreateTable op;
  op.name = o.Identifier("name");
  const Json& columns = o.List("columns", /*required=*/true);
  if (columns.empty()) {
    o.Fail("columns", "a table needs at least one column",
           "Add `columns:` with at least `- name: id` and `type: ...`.");
  }
  bool has_pk_column = false;
  for (size_t i = 0; i < columns.size(); ++i) {
    Object c(*this, columns[i], "columns[" + std::to_string(i + 1) + "]", "a column",
             {"name", "type", "nullable", "default", "pk", "unique", "check", "references",
              "comment", "generated"});
    Column column = DecodeColumn(c);
    for (const auto& earlier : op.columns) {
      if (earlier.name == column.name) {
        c.Fail("name", "the column " + Quote(column.name) + " is defined twice",
               "Give each column its own name, or remove one of them.");
      }
    }
    has_pk_column = has_pk_column || column.pk;
    op.columns.push_back(std::move(column));
  }
  op.comment = o.OptString("comment");
  const Json& constraints = o.List("constraints", /*required=*/false);
  auto is_column = [&op](const std::string& name) {
    return std::any_of(op.columns.begin(), op.columns.end(),
                       [&name](const Column& c) { return c.name == name; });
  };
  for (size_t i = 0; i < constraints.size(); ++i) {
    Object c(*this, constraints[i], "constraints[" + std::to_string(i + 1) + "]", "a constraint",
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
  return op;
}

AddColumn Decoder::DecodeAddColumn(const Object& o) {
  AddColumn op;
  op.table = o.Identifier("table");
  if (!o.Has("column")) {
    o.Fail("column", "the required field 'column' is missing",
           "Add `column:` with at least `name` and `type`.");
  }
  op.column = DecodeColumn(o.Sub("column", "a column",
                                 {"name", "type", "nullable", "default", "pk", "unique", "check",
                                  "references", "comment", "generated"}));
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
  if (const Json* type = o.Find("type");
      type != nullptr && type->is_string() && type->get<std::string>().empty()) {
    o.Fail("type", "the new type is empty", "Write the new type, e.g. `type: bigint`.");
  }
  op.type = o.OptString("type");
  op.nullable = o.OptBool("nullable");
  op.default_value = o.NullableString("default");
  if (o.Has("check")) {
    op.check = DecodeCheck(o.Sub("check", "a check", {"name", "constraint", "no_inherit"}));
  }
  if (o.Has("unique")) {
    Object u = o.Sub("unique", "unique", {"name"});
    op.unique = UniqueConstraint{u.Identifier("name")};
  }
  if (o.Has("references")) {
    op.references = DecodeReference(o.Sub("references", "a foreign key reference",
                                          {"name", "table", "column", "on_delete", "on_update",
                                           "match_type", "deferrable", "initially_deferred"}));
  }
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

RebuildTable Decoder::DecodeRebuildTable(const Object& o) {
  RebuildTable op;
  op.table = o.Identifier("table");
  const Json& columns = o.List("columns", /*required=*/false);
  for (size_t i = 0; i < columns.size(); ++i) {
    Object c(*this, columns[i], "columns[" + std::to_string(i + 1) + "]", "a column change",
             {"column", "type", "nullable", "default", "comment", "up", "down"});
    RebuildColumn column;
    column.column = c.Identifier("column");
    if (const Json* type = c.Find("type");
        type != nullptr && type->is_string() && type->get<std::string>().empty()) {
      c.Fail("type", "the new type is empty", "Write the new type, e.g. `type: bigint`.");
    }
    column.type = c.OptString("type");
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
    op.columns.push_back(std::move(column));
  }
  op.alter = o.OptString("alter");
  if (op.alter && op.alter->find_first_not_of(" \t\r\n") == std::string::npos) {
    o.Fail("alter", "the ALTER TABLE clauses are empty",
           "Write the clauses as after `ALTER TABLE <table>`, e.g. `alter: ALTER COLUMN id TYPE "
           "bigint`, or remove the field.");
  }
  return op;
}

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

CreateIndex Decoder::DecodeCreateIndex(const Object& o) {
  CreateIndex op;
  op.name = o.Identifier("name");
  op.table = o.Identifier("table");
  const Json* columns = o.Find("columns");
  if (columns == nullptr || columns->is_null()) {
    o.Fail("columns", "the required field 'columns' is missing",
           "Add `columns:` with one `- column: <name>` line per column.");
  }
  static const std::vector<std::string_view> kFieldKeys = {"column", "collate", "sort", "opclass",
                                                           "nulls"};
  if (columns->is_object()) {
    // pgroll 0.10 to 0.14 wrote {"<column>": {settings}}; the file's key order is the index order.
    for (const auto& [name, settings] : columns->items()) {
      std::string path = o.Field("columns") + "." + name;
      std::vector<std::string_view> keys(kFieldKeys.begin() + 1, kFieldKeys.end());
      // `column: ~` (no settings) is as good as `column: {}`.
      static const Json kNoSettings = Json::object();
      Object s(*this, settings.is_null() ? kNoSettings : settings, path, "an index column", keys);
      op.columns.push_back(DecodeIndexField(s, name));
    }
  } else if (columns->is_array()) {
    for (size_t i = 0; i < columns->size(); ++i) {
      const Json& item = (*columns)[i];
      std::string path = o.Field("columns") + "[" + std::to_string(i + 1) + "]";
      if (item.is_string()) {
        // pgroll before 0.10: a plain list of column names.
        std::string name = item.get<std::string>();
        CheckIdentifier(path, name);
        IndexField field;
        field.column = std::move(name);
        op.columns.push_back(std::move(field));
      } else {
        Object s(*this, item, path, "an index column", kFieldKeys);
        op.columns.push_back(DecodeIndexField(s, std::nullopt));
      }
    }
  } else {
    o.Fail("columns", "expected a list of columns, got " + TypeName(*columns),
           "Write one `- column: <name>` line per column.");
  }
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

CreateConstraint Decoder::DecodeCreateConstraint(const Object& o) {
  CreateConstraint op;
  op.table = o.Identifier("table");
  op.name = o.Identifier("name");
  if (!o.Has("type")) {
    o.Fail("type", "the required field 'type' is missing",
           "Add `type:` with one of 'unique', 'check', 'primary_key', 'foreign_key'.");
  }
  op.type = *o.OptEnum<ConstraintType>("type");
  if (op.type == ConstraintType::kExclude) {
    o.Fail("type", "create_constraint cannot create an exclude constraint",
           "Write one of 'unique', 'check', 'primary_key', 'foreign_key'; exclude constraints are "
           "only available in create_table.");
  }
  op.columns = o.IdentifierList("columns", /*required=*/false);
  op.check = o.OptString("check");
  op.no_inherit = o.Bool("no_inherit");
  if (o.Has("index_parameters")) {
    op.index_parameters =
        DecodeIndexParameters(o.Sub("index_parameters", "index_parameters",
                                    {"tablespace", "storage_parameters", "include_columns"}));
  }
  if (o.Has("references")) {
    op.references = DecodeTableReference(o.Sub(
        "references", "a table foreign key reference",
        {"table", "columns", "match_type", "on_update", "on_delete", "on_delete_set_columns"}));
  }
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

RawSql Decoder::DecodeRawSql(const Object& o) {
  RawSql op;
  op.up = o.String("up", "<SQL statements>");
  op.down = o.OptString("down");
  op.on_complete = o.Bool("onComplete");
  if (op.on_complete && op.down) {
    o.Fail("down", "`down` cannot be used with `onComplete: true`",
           "Remove `down`: SQL run on complete has nothing to roll back.");
  }
  return op;
}

template <typename T>
T RenameOp(const Object& o, bool with_table) {
  T op;
  if constexpr (requires { op.table; }) {
    if (with_table) op.table = o.Identifier("table");
  }
  op.from = o.Identifier("from");
  op.to = o.Identifier("to");
  if (op.from == op.to) {
    o.Fail("to", "`from` and `to` are the same name " + Quote(op.to),
           "Write the new name in `to`, or remove this operation.");
  }
  return op;
}

Operation Decoder::DecodeOperation(const Json& json) {
  if (!json.is_object() || json.size() != 1) {
    std::string what = json.is_object() ? (json.empty() ? "an empty object"
                                                        : std::to_string(json.size()) + " keys")
                                        : TypeName(json);
    Fail("", "each operation is an object with exactly one key, its name; found " + what,
         "Write each operation as its own list item, e.g. `- add_column: {...}`.");
  }
  // Through the iterator, not items(): a structured binding to items()'s temporary proxy value
  // leaves `name` dangling (GCC 12 -O2 warns, rightly).
  auto first = json.begin();
  const std::string name = first.key();
  const Json& body = first.value();
  op_name_ = name;
  std::vector<std::string_view> names(std::begin(kOperationNames), std::end(kOperationNames));
  if (std::find(names.begin(), names.end(), name) == names.end()) {
    std::string fix;
    if (auto near = Suggest(name, names)) fix = "Did you mean " + Quote(*near) + "? ";
    Fail("", "unknown operation " + Quote(name), fix + "The operations are: " + Join(names) + ".");
  }
  std::string what = name + " operation";
  auto object = [&](std::vector<std::string_view> keys) {
    return Object(*this, body, "", what, std::move(keys));
  };
  if (name == "create_table") {
    return DecodeCreateTable(object({"name", "columns", "comment", "constraints"}));
  }
  if (name == "add_column") return DecodeAddColumn(object({"table", "column", "up"}));
  if (name == "alter_column") {
    if (body.is_object() && body.contains("name")) {
      Fail("name", "alter_column no longer renames columns",
           "Use a separate `rename_column` operation with `table`, `from` and `to`.");
    }
    return DecodeAlterColumn(object({"table", "column", "up", "down", "type", "nullable", "default",
                                     "check", "unique", "references", "comment"}));
  }
  if (name == "rename_column") {
    return RenameOp<RenameColumn>(object({"table", "from", "to"}), true);
  }
  if (name == "drop_column") {
    Object o = object({"table", "column", "down"});
    return DropColumn{o.Identifier("table"), o.Identifier("column"), o.OptString("down")};
  }
  if (name == "rename_table") return RenameOp<RenameTable>(object({"from", "to"}), false);
  if (name == "drop_table") return DropTable{object({"name"}).Identifier("name")};
  if (name == "create_index") {
    return DecodeCreateIndex(object(
        {"name", "table", "columns", "predicate", "method", "storage_parameters", "unique"}));
  }
  if (name == "drop_index") return DropIndex{object({"name"}).Identifier("name")};
  if (name == "rebuild_table") return DecodeRebuildTable(object({"table", "columns", "alter"}));
  if (name == "rename_constraint") {
    return RenameOp<RenameConstraint>(object({"table", "from", "to"}), true);
  }
  if (name == "drop_constraint") {
    Object o = object({"table", "name", "up", "down"});
    DropConstraint op{o.Identifier("table"), o.Identifier("name"), std::nullopt, std::nullopt};
    op.up = o.String("up", "<SQL expression>");
    op.down = o.String("down", "<SQL expression>");
    return op;
  }
  if (name == "create_constraint") {
    return DecodeCreateConstraint(object({"table", "name", "columns", "type", "check", "no_inherit",
                                          "index_parameters", "references", "up", "down"}));
  }
  if (name == "drop_multicolumn_constraint") {
    Object o = object({"table", "name", "up", "down"});
    DropMultiColumnConstraint op;
    op.table = o.Identifier("table");
    op.name = o.Identifier("name");
    op.up = o.SqlMap("up", /*required=*/false);
    op.down = o.SqlMap("down", /*required=*/true);
    return op;
  }
  if (name == "set_replica_identity") {
    return DecodeSetReplicaIdentity(object({"table", "identity"}));
  }
  return DecodeRawSql(object({"up", "down", "onComplete"}));
}

Migration Decoder::DecodeMigrationObject(const Json& json) {
  Object top(*this, json, "", "a migration", {"name", "version_schema", "operations"});
  Migration migration;
  migration.source = options_.source;
  auto name = top.OptString("name");
  if (!name) name = std::filesystem::path(options_.source).stem().string();
  if (name->empty()) {
    top.Fail("name", "the migration has no name", "Add `name: <migration name>`.");
  }
  if (name->size() > kMaxIdentifierBytes) {
    top.Fail("name",
             "the migration name is " + std::to_string(name->size()) +
                 " bytes long; it names a schema, and PostgreSQL allows at most 63",
             "Use a shorter name (or file name).");
  }
  migration.name = *name;
  migration.version_schema = top.OptIdentifier("version_schema");
  const Json& operations = top.List("operations", /*required=*/true);
  if (operations.empty()) {
    top.Fail("operations", "the migration has no operations",
             "Add at least one operation under `operations:`.");
  }
  for (size_t i = 0; i < operations.size(); ++i) {
    op_index_ = static_cast<int>(i + 1);
    op_name_ = "?";
    migration.operations.push_back(DecodeOperation(operations[i]));
  }
  op_index_ = 0;
  return migration;
}

}  // namespace

size_t EditDistance(std::string_view a, std::string_view b) {
  std::vector<size_t> row(b.size() + 1);
  for (size_t j = 0; j <= b.size(); ++j) row[j] = j;
  for (size_t i = 1; i <= a.size(); ++i) {
    size_t diagonal = row[0];
    row[0] = i;
    for (size_t j = 1; j <= b.size(); ++j) {
      size_t above = row[j];
      size_t cost = a[i - 1] == b[j - 1] ? 0 : 1;
      row[j] = std::min({row[j] + 1, row[j - 1] + 1, diagonal + cost});
      diagonal = above;
    }
  }
  return row[b.size()];
}

Result<Migration> DecodeMigration(const Json& json, const DecodeOptions& options) {
  try {
    Decoder decoder(options);
    return decoder.DecodeMigrationObject(json);
  } catch (const DecodeFailure& failure) {
    return failure.error;
  }
}

}  // namespace zerodown::model::internal
