#include "proxy/session_sql.hpp"

#include <pg_query.h>
#include <pg_query/pg_query.pb-c.h>

#include <algorithm>
#include <memory>
#include <optional>
#include <string>
#include <unordered_map>

#include "proxy/read_sql.hpp"

namespace zerodown::proxy {
namespace {

struct ParseResultFree {
  void operator()(PgQuery__ParseResult* tree) const {
    pg_query__parse_result__free_unpacked(tree, nullptr);
  }
};
using ParseTree = std::unique_ptr<PgQuery__ParseResult, ParseResultFree>;

// ASCII lower case without the locale: SQL keywords and these setting names are ASCII.
char Fold(char c) { return c >= 'A' && c <= 'Z' ? static_cast<char>(c + ('a' - 'A')) : c; }

bool StartsNoCase(std::string_view text, std::string_view lower_word) {
  if (text.size() < lower_word.size()) return false;
  for (std::size_t i = 0; i < lower_word.size(); ++i) {
    if (Fold(text[i]) != lower_word[i]) return false;
  }
  return true;
}

// Whether the text can hold a statement this file follows. Every such statement names the
// setting (user_id, search_path), or is a RESET or DISCARD; anything else is left to the server
// unparsed. One pass over the text, as it runs for every statement a client sends.
bool MayChangeSettings(std::string_view sql) {
  for (std::size_t i = 0; i < sql.size(); ++i) {
    std::string_view rest = sql.substr(i);
    switch (Fold(sql[i])) {
      case 'u':
        if (StartsNoCase(rest, "user_id")) return true;
        break;
      case 's':
        if (StartsNoCase(rest, "search_path")) return true;
        break;
      case 'r':
        if (StartsNoCase(rest, "reset")) return true;
        break;
      case 'd':
        if (StartsNoCase(rest, "discard")) return true;
        break;
      default:
        break;
    }
  }
  return false;
}

ParseTree Parse(std::string_view sql) {
  std::string text(sql);
  PgQueryProtobufParseResult parsed = pg_query_parse_protobuf(text.c_str());
  ParseTree tree;
  if (parsed.error == nullptr) {
    tree.reset(pg_query__parse_result__unpack(
        nullptr, parsed.parse_tree.len, reinterpret_cast<const uint8_t*>(parsed.parse_tree.data)));
  }
  pg_query_free_protobuf_parse_result(parsed);
  return tree;
}

// An argument of SET as the server prints it: strings and identifiers as written, numbers as
// their digits, booleans as true/false.
std::optional<std::string> ConstText(const PgQuery__Node* node) {
  if (node == nullptr || node->node_case != PG_QUERY__NODE__NODE_A_CONST) return std::nullopt;
  const PgQuery__AConst* constant = node->a_const;
  switch (constant->val_case) {
    case PG_QUERY__A__CONST__VAL_SVAL:
      return std::string(constant->sval->sval);
    case PG_QUERY__A__CONST__VAL_IVAL:
      return std::to_string(constant->ival->ival);
    case PG_QUERY__A__CONST__VAL_FVAL:
      return std::string(constant->fval->fval);
    case PG_QUERY__A__CONST__VAL_BOOLVAL:
      return std::string(constant->boolval->boolval ? "true" : "false");
    default:
      return std::nullopt;
  }
}

std::optional<SettingChange> FromSet(const PgQuery__VariableSetStmt& set) {
  SettingChange change;
  change.local = set.is_local;
  switch (set.kind) {
    case PG_QUERY__VARIABLE_SET_KIND__VAR_RESET_ALL:
      change.setting = SettingKind::kAll;
      change.reset = true;
      return change;
    case PG_QUERY__VARIABLE_SET_KIND__VAR_RESET:
    case PG_QUERY__VARIABLE_SET_KIND__VAR_SET_DEFAULT:
      change.reset = true;
      break;
    case PG_QUERY__VARIABLE_SET_KIND__VAR_SET_VALUE:
      break;
    default:  // SET … FROM CURRENT, SET TRANSACTION and friends
      return std::nullopt;
  }
  std::string_view name = set.name == nullptr ? "" : set.name;
  if (name == kUserIdSetting) {
    change.setting = SettingKind::kUserId;
  } else if (name == "search_path") {
    change.setting = SettingKind::kSearchPath;
  } else {
    return std::nullopt;
  }
  for (std::size_t i = 0; i < set.n_args && !change.reset; ++i) {
    auto text = ConstText(set.args[i]);
    if (!text) return std::nullopt;
    // A list given to a setting without list syntax is stored joined, as the server does.
    if (!change.value.empty()) change.value += ", ";
    change.value += *text;
    change.schemas.push_back(*text);
  }
  if (change.setting == SettingKind::kUserId) change.schemas.clear();
  if (change.setting == SettingKind::kSearchPath) change.value.clear();
  return change;
}

// How many classified texts the cache keeps before it starts over: the statements of a
// client's extended protocol (and every prepared one) repeat their text exactly.
constexpr std::size_t kCachedTexts = 512;

std::vector<SettingChange> SettingChanges(const PgQuery__ParseResult& tree) {
  std::vector<SettingChange> changes;
  for (std::size_t i = 0; i < tree.n_stmts; ++i) {
    const PgQuery__Node* stmt = tree.stmts[i]->stmt;
    if (stmt == nullptr) continue;
    if (stmt->node_case == PG_QUERY__NODE__NODE_VARIABLE_SET_STMT) {
      if (auto change = FromSet(*stmt->variable_set_stmt)) changes.push_back(std::move(*change));
    } else if (stmt->node_case == PG_QUERY__NODE__NODE_DISCARD_STMT &&
               stmt->discard_stmt->target == PG_QUERY__DISCARD_MODE__DISCARD_ALL) {
      changes.push_back(SettingChange{SettingKind::kAll, /*reset=*/true, false, {}, {}});
    }
  }
  return changes;
}

// The read kinds of texts that change no followed setting, by exact text. The proxy runs on one
// thread; a thread_local keeps tests and any other caller safe all the same.
struct TextHash {
  using is_transparent = void;  // found by string_view, without a copy
  std::size_t operator()(std::string_view text) const {
    return std::hash<std::string_view>{}(text);
  }
};
using ReadKinds = std::unordered_map<std::string, ReadKind, TextHash, std::equal_to<>>;
ReadKinds& ReadCache() {
  thread_local ReadKinds cache;
  return cache;
}

}  // namespace

SqlFacts AnalyzeSql(std::string_view sql, bool classify) {
  SqlFacts facts;
  bool settings = MayChangeSettings(sql);
  classify = classify && MayBeRead(sql);
  if (!settings && !classify) return facts;
  auto& cache = ReadCache();
  if (!settings) {
    if (auto it = cache.find(sql); it != cache.end()) {
      facts.read = it->second;
      return facts;
    }
  }
  ParseTree tree = Parse(sql);
  if (!tree) return facts;  // the server will refuse it too
  if (settings) facts.changes = SettingChanges(*tree);
  if (classify) {
    facts.read = ClassifyRead(*tree);
    // Only texts with parameters: those of the extended protocol repeat, while a simple Query
    // carries its values and would only churn the cache.
    if (!settings && sql.find('$') != std::string_view::npos) {
      if (cache.size() >= kCachedTexts) cache.clear();
      cache.emplace(std::string(sql), facts.read);
    }
  }
  return facts;
}

std::vector<SettingChange> FollowedSettingChanges(std::string_view sql) {
  return AnalyzeSql(sql, /*classify=*/false).changes;
}

}  // namespace zerodown::proxy
