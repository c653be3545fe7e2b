// Internal to the model module: the pieces the decoder's files share. `Object` reads one JSON
// object field by field and fails with the field's path; `Decoder` holds where in the file it is
// (operation index and name) and decodes each operation, one family per file:
//   decode_object.cpp      Object, messages, "did you mean"
//   decode_column.cpp      columns, checks, foreign key references, index parameters
//   decode_constraint.cpp  table constraints and create_constraint
//   decode_table_ops.cpp   create_table, add_column, alter_column, rebuild_table
//   decode_index_ops.cpp   create_index, set_replica_identity
//   decoder.cpp            the operation table, the migration, DecodeMigration
#pragma once

#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "model/decoder.hpp"
#include "model/enum_names.hpp"

namespace zerodown::model::internal {

// PostgreSQL truncates longer names (NAMEDATALEN - 1), so two long names could collide silently.
constexpr size_t kMaxIdentifierBytes = 63;

// Thrown inside the decoder only; DecodeMigration turns it into a Result.
struct DecodeFailure {
  Error error;
};

// "a string", "a list", ... for "expected X, got Y" messages.
std::string TypeName(const Json& value);
std::string Quote(std::string_view text);
std::string Join(const std::vector<std::string_view>& items);
// The closest candidate, if it is close enough to be a plausible typo.
std::optional<std::string_view> Suggest(std::string_view wrong,
                                        const std::vector<std::string_view>& candidates);
// "Did you mean 'x'? " when `wrong` is close to a candidate, else `otherwise`.
std::string DidYouMean(std::string_view wrong, const std::vector<std::string_view>& candidates,
                       std::string otherwise);

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

// Decodes one migration; knows which operation it is in, for the `where` of every message.
class Decoder {
 public:
  explicit Decoder(const DecodeOptions& options) : options_(options) {}

  Migration DecodeMigrationObject(const Json& json);

  bool from_yaml() const { return options_.from_yaml; }

  // Throws DecodeFailure: kInvalidMigration, where = "<source>, operation <n> (<name>), field".
  [[noreturn]] void Fail(const std::string& field, std::string message, std::string fix) const;
  // Fails on an empty name or one longer than PostgreSQL keeps.
  void CheckIdentifier(const std::string& field, const std::string& name) const;

  // Each takes the operation's body; defined in the file of its family (see the top of this file).
  CreateTable DecodeCreateTable(const Object& o);
  AddColumn DecodeAddColumn(const Object& o);
  AlterColumn DecodeAlterColumn(const Object& o);
  RebuildTable DecodeRebuildTable(const Object& o);
  CreateIndex DecodeCreateIndex(const Object& o);
  CreateConstraint DecodeCreateConstraint(const Object& o);
  SetReplicaIdentity DecodeSetReplicaIdentity(const Object& o);

  Column DecodeColumn(const Object& o);
  // Each decodes the field of its name (check, references, index_parameters) of `parent`.
  CheckConstraint DecodeCheck(const Object& parent);
  ForeignKeyReference DecodeReference(const Object& parent);
  TableForeignKeyReference DecodeTableReference(const Object& parent);
  IndexParameters DecodeIndexParameters(const Object& parent);
  Constraint DecodeConstraint(const Object& o);
  void CheckConstraintFields(const Object& o, ConstraintType type, const Constraint& c);

 private:
  Operation DecodeOperation(const Json& json);
  std::vector<Column> DecodeTableColumns(const Object& o);
  void DecodeTableConstraints(const Object& o, CreateTable& op);
  RebuildColumn DecodeRebuildColumn(const Object& c, const RebuildTable& op);
  IndexField DecodeIndexField(const Object& o, std::optional<std::string> column);
  std::vector<IndexField> DecodeIndexColumns(const Object& o, const Json& columns);
  GeneratedColumn DecodeGenerated(const Object& g);

  const DecodeOptions& options_;
  int op_index_ = 0;
  std::string op_name_;
};

// A constraint that is INITIALLY DEFERRED must be DEFERRABLE.
void CheckDeferral(const Object& o, bool deferrable, bool initially_deferred);

}  // namespace zerodown::model::internal
