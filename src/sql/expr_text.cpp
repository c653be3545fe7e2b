#include "sql/expr_text.hpp"

#include <algorithm>
#include <map>

namespace zerodown::sql {

namespace {

constexpr int kComma = ',';
constexpr int kSemicolon = ';';
constexpr int kOpen = '(';
constexpr int kClose = ')';
constexpr int kOpenBracket = '[';
constexpr int kCloseBracket = ']';

// The smallest and largest "location" in a parse-tree node: where its text begins, and a token
// certainly inside it. (A TypeCast's or an operator's own location is that of `::` or the
// operator, not of the expression's first token.)
void Locations(const nlohmann::json& node, std::size_t& first, std::size_t& last) {
  if (node.is_object()) {
    for (auto it = node.begin(); it != node.end(); ++it) {
      if (it.key() == "location" && it.value().is_number_integer() && it.value().get<int>() >= 0) {
        first = std::min(first, it.value().get<std::size_t>());
        last = std::max(last, it.value().get<std::size_t>());
      } else {
        Locations(it.value(), first, last);
      }
    }
  } else if (node.is_array()) {
    for (const auto& child : node) Locations(child, first, last);
  }
}

// The offset of the `(` that is the last token before `offset`, if it is one.
std::optional<std::size_t> OpenBefore(const std::vector<Token>& tokens, std::size_t offset) {
  std::optional<std::size_t> open;
  for (const auto& t : tokens) {
    if (t.begin >= offset) break;
    if (t.comment) continue;
    open = t.kind == kOpen ? std::optional(t.begin) : std::nullopt;
  }
  return open;
}

}  // namespace

std::string ExprText(const std::string& text, const std::vector<Token>& tokens,
                     const nlohmann::json& node, std::size_t bound, std::size_t offset) {
  std::size_t start = std::numeric_limits<std::size_t>::max();
  std::size_t last = 0;
  Locations(node, start, last);
  start += offset;
  last += offset;
  for (;;) {
    std::size_t end = start;
    std::optional<std::size_t> unmatched;
    int depth = 0;
    for (const auto& t : tokens) {
      if (t.begin < start || t.comment) continue;
      if (t.begin >= bound) break;
      if (depth == 0 && (t.kind == kComma || t.kind == kSemicolon)) break;
      if (t.kind == kOpen || t.kind == kOpenBracket) ++depth;
      if (t.kind == kClose || t.kind == kCloseBracket) {
        if (depth == 0) {
          unmatched = t.begin;
          break;
        }
        --depth;
      }
      end = t.end;
    }
    // Parentheses leave no trace in the tree: `(price * 100)::bigint` starts at `price`, and
    // the scan stops at a `)` although the cast after it is part of the node. Then the
    // expression began at the `(` right before it.
    std::optional<std::size_t> open =
        unmatched && *unmatched < last ? OpenBefore(tokens, start) : std::nullopt;
    if (!open) return text.substr(start, end - start);
    start = *open;
  }
}

std::string TypeName(const nlohmann::json& type) {
  static const std::map<std::string, std::string> kNames = {
      {"int8", "bigint"},     {"int4", "integer"},
      {"int2", "smallint"},   {"float8", "double precision"},
      {"float4", "real"},     {"bool", "boolean"},
      {"bpchar", "character"}};
  std::string name;
  const nlohmann::json& names = type.at("names");
  for (std::size_t i = 0; i < names.size(); ++i) {
    std::string part = names[i].at("String").at("sval").get<std::string>();
    if (i == 0 && part == "pg_catalog" && names.size() > 1) continue;
    if (!name.empty()) name += ".";
    auto mapped = kNames.find(part);
    name += names.size() <= 2 && mapped != kNames.end() ? mapped->second : part;
  }
  if (type.contains("typmods")) {
    std::string mods;
    for (const auto& m : type.at("typmods")) {
      if (!mods.empty()) mods += ",";
      mods += std::to_string(m.at("A_Const").at("ival").value("ival", 0));
    }
    name += "(" + mods + ")";
  }
  for (std::size_t i = 0; i < type.value("arrayBounds", nlohmann::json::array()).size(); ++i)
    name += "[]";
  return name;
}

}  // namespace zerodown::sql
