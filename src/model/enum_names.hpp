// Spellings of the model's enums in the migration format, shared by the decoder and the encoder
// so that the two can never disagree. Internal to the model module.
#pragma once

#include <array>
#include <optional>
#include <string>
#include <string_view>
#include <utility>

#include "zerodown/model/operations.hpp"

namespace zerodown::model::internal {

template <typename E>
struct EnumNames;

#define ZERODOWN_ENUM_NAMES(Type, ...)                                   \
  template <>                                                            \
  struct EnumNames<Type> {                                               \
    static constexpr auto kNames =                                       \
        std::to_array<std::pair<Type, std::string_view>>({__VA_ARGS__}); \
  };

ZERODOWN_ENUM_NAMES(ForeignKeyAction, {ForeignKeyAction::kNoAction, "NO ACTION"},
                    {ForeignKeyAction::kRestrict, "RESTRICT"},
                    {ForeignKeyAction::kCascade, "CASCADE"},
                    {ForeignKeyAction::kSetNull, "SET NULL"},
                    {ForeignKeyAction::kSetDefault, "SET DEFAULT"})
ZERODOWN_ENUM_NAMES(MatchType, {MatchType::kSimple, "SIMPLE"}, {MatchType::kFull, "FULL"},
                    {MatchType::kPartial, "PARTIAL"})
ZERODOWN_ENUM_NAMES(ConstraintType, {ConstraintType::kUnique, "unique"},
                    {ConstraintType::kCheck, "check"}, {ConstraintType::kPrimaryKey, "primary_key"},
                    {ConstraintType::kForeignKey, "foreign_key"},
                    {ConstraintType::kExclude, "exclude"})
ZERODOWN_ENUM_NAMES(IndexMethod, {IndexMethod::kBtree, "btree"}, {IndexMethod::kHash, "hash"},
                    {IndexMethod::kGist, "gist"}, {IndexMethod::kSpgist, "spgist"},
                    {IndexMethod::kGin, "gin"}, {IndexMethod::kBrin, "brin"})
ZERODOWN_ENUM_NAMES(SortOrder, {SortOrder::kAsc, "ASC"}, {SortOrder::kDesc, "DESC"})
ZERODOWN_ENUM_NAMES(NullsOrder, {NullsOrder::kFirst, "FIRST"}, {NullsOrder::kLast, "LAST"})
ZERODOWN_ENUM_NAMES(IdentityKind, {IdentityKind::kAlways, "ALWAYS"},
                    {IdentityKind::kByDefault, "BY DEFAULT"})
// pgroll compares replica identity types case-insensitively and its examples write lowercase.
ZERODOWN_ENUM_NAMES(ReplicaIdentityType, {ReplicaIdentityType::kNothing, "nothing"},
                    {ReplicaIdentityType::kDefault, "default"},
                    {ReplicaIdentityType::kIndex, "index"}, {ReplicaIdentityType::kFull, "full"})

#undef ZERODOWN_ENUM_NAMES

// The spelling of `value`.
template <typename E>
std::string_view EnumName(E value) {
  for (const auto& [candidate, name] : EnumNames<E>::kNames) {
    if (candidate == value) return name;
  }
  return "?";
}

// The value spelled `text`, or nullopt. With `ignore_case`, "Cascade" matches "CASCADE".
template <typename E>
std::optional<E> EnumFromName(std::string_view text, bool ignore_case) {
  auto equal = [ignore_case](std::string_view a, std::string_view b) {
    if (a.size() != b.size()) return false;
    for (size_t i = 0; i < a.size(); ++i) {
      char x = a[i];
      char y = b[i];
      if (ignore_case) {
        if (x >= 'A' && x <= 'Z') x = static_cast<char>(x - 'A' + 'a');
        if (y >= 'A' && y <= 'Z') y = static_cast<char>(y - 'A' + 'a');
      }
      if (x != y) return false;
    }
    return true;
  };
  for (const auto& [candidate, name] : EnumNames<E>::kNames) {
    if (equal(name, text)) return candidate;
  }
  return std::nullopt;
}

// "'NO ACTION', 'RESTRICT', ..." for messages.
template <typename E>
std::string EnumChoices() {
  std::string text;
  for (const auto& [candidate, name] : EnumNames<E>::kNames) {
    if (!text.empty()) text += ", ";
    text += "'" + std::string(name) + "'";
  }
  return text;
}

}  // namespace zerodown::model::internal
