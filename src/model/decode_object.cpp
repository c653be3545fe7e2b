#include <algorithm>
#include <utility>

#include "model/decoder_internal.hpp"

namespace zerodown::model::internal {

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

std::string DidYouMean(std::string_view wrong, const std::vector<std::string_view>& candidates,
                       std::string otherwise) {
  if (auto near = Suggest(wrong, candidates)) return "Did you mean " + Quote(*near) + "? ";
  return otherwise;
}

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

void Decoder::Fail(const std::string& field, std::string message, std::string fix) const {
  std::string where = options_.source;
  if (op_index_ > 0) {
    where += ", operation " + std::to_string(op_index_) + " (" + op_name_ + ")";
  }
  if (!field.empty()) where += ", field " + field;
  throw DecodeFailure{
      Error(ErrorKind::kInvalidMigration, std::move(message), std::move(fix)).WithWhere(where)};
}

void Decoder::CheckIdentifier(const std::string& field, const std::string& name) const {
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
    std::string fix = DidYouMean(key, keys, "Remove it. ");
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

}  // namespace zerodown::model::internal
