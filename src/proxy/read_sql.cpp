#include "proxy/read_sql.hpp"

#include <algorithm>
#include <cstring>

namespace zerodown::proxy {
namespace {

char Fold(char c) { return c >= 'A' && c <= 'Z' ? static_cast<char>(c + ('a' - 'A')) : c; }

// The text from its first word on: blanks, -- comments and /* */ comments skipped.
std::string_view SkipBlanks(std::string_view sql) {
  std::size_t i = 0;
  while (i < sql.size()) {
    char c = sql[i];
    if (c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f') {
      ++i;
    } else if (sql.substr(i, 2) == "--") {
      std::size_t end = sql.find('\n', i);
      i = end == std::string_view::npos ? sql.size() : end + 1;
    } else if (sql.substr(i, 2) == "/*") {
      // Nested comments end at the first */ here: a text cut short is parsed, not trusted.
      std::size_t end = sql.find("*/", i + 2);
      i = end == std::string_view::npos ? sql.size() : end + 2;
    } else {
      break;
    }
  }
  return sql.substr(i);
}

bool StartsWithWord(std::string_view text, std::string_view lower_word) {
  if (text.size() < lower_word.size()) return false;
  for (std::size_t i = 0; i < lower_word.size(); ++i) {
    if (Fold(text[i]) != lower_word[i]) return false;
  }
  if (text.size() == lower_word.size()) return true;
  char next = Fold(text[lower_word.size()]);
  return !((next >= 'a' && next <= 'z') || (next >= '0' && next <= '9') || next == '_');
}

std::string_view StringValue(const PgQuery__Node* node) {
  if (node == nullptr || node->node_case != PG_QUERY__NODE__NODE_STRING) return {};
  return node->string->sval;
}

bool AllowedFunction(const PgQuery__FuncCall& call) {
  // funcname is [name] or [schema, name]; only pg_catalog's built-ins are known to be pure.
  if (call.n_funcname == 2 && StringValue(call.funcname[0]) != "pg_catalog") return false;
  if (call.n_funcname != 1 && call.n_funcname != 2) return false;
  std::string_view name = StringValue(call.funcname[call.n_funcname - 1]);
  const auto& allowed = ReadOnlyFunctions();
  return std::binary_search(allowed.begin(), allowed.end(), name);
}

// False when the message or anything below it may write: a data-modifying statement (in a WITH),
// SELECT … INTO or FOR UPDATE/SHARE, or a function outside the list. Walks every message field
// through protobuf-c's descriptors, so a node kind added to the grammar is walked too.
bool OnlyReads(const ProtobufCMessage* message) {
  const ProtobufCMessageDescriptor* type = message->descriptor;
  if (type == &pg_query__insert_stmt__descriptor || type == &pg_query__update_stmt__descriptor ||
      type == &pg_query__delete_stmt__descriptor || type == &pg_query__merge_stmt__descriptor) {
    return false;
  }
  if (type == &pg_query__select_stmt__descriptor) {
    const auto* select = reinterpret_cast<const PgQuery__SelectStmt*>(message);
    if (select->into_clause != nullptr || select->n_locking_clause > 0) return false;
  }
  if (type == &pg_query__func_call__descriptor &&
      !AllowedFunction(*reinterpret_cast<const PgQuery__FuncCall*>(message))) {
    return false;
  }
  const char* base = reinterpret_cast<const char*>(message);
  for (unsigned i = 0; i < type->n_fields; ++i) {
    const ProtobufCFieldDescriptor& field = type->fields[i];
    if (field.type != PROTOBUF_C_TYPE_MESSAGE) continue;
    if (field.label == PROTOBUF_C_LABEL_REPEATED) {
      std::size_t n = *reinterpret_cast<const std::size_t*>(base + field.quantifier_offset);
      auto* items = *reinterpret_cast<ProtobufCMessage* const* const*>(base + field.offset);
      for (std::size_t j = 0; j < n; ++j) {
        if (items[j] != nullptr && !OnlyReads(items[j])) return false;
      }
      continue;
    }
    if ((field.flags & PROTOBUF_C_FIELD_FLAG_ONEOF) != 0 &&
        *reinterpret_cast<const std::uint32_t*>(base + field.quantifier_offset) != field.id) {
      continue;  // another member of the oneof (a Node's one kind) is set
    }
    auto* child = *reinterpret_cast<ProtobufCMessage* const*>(base + field.offset);
    if (child != nullptr && !OnlyReads(child)) return false;
  }
  return true;
}

bool PlainSelect(const PgQuery__Node* stmt) {
  return stmt != nullptr && stmt->node_case == PG_QUERY__NODE__NODE_SELECT_STMT &&
         OnlyReads(&stmt->base);
}

// BEGIN / START TRANSACTION whose last access mode is READ ONLY.
bool BeginReadOnly(const PgQuery__Node* stmt) {
  if (stmt == nullptr || stmt->node_case != PG_QUERY__NODE__NODE_TRANSACTION_STMT) return false;
  const PgQuery__TransactionStmt& begin = *stmt->transaction_stmt;
  if (begin.kind != PG_QUERY__TRANSACTION_STMT_KIND__TRANS_STMT_BEGIN &&
      begin.kind != PG_QUERY__TRANSACTION_STMT_KIND__TRANS_STMT_START) {
    return false;
  }
  bool read_only = false;
  for (std::size_t i = 0; i < begin.n_options; ++i) {
    const PgQuery__Node* option = begin.options[i];
    if (option == nullptr || option->node_case != PG_QUERY__NODE__NODE_DEF_ELEM) continue;
    const PgQuery__DefElem& item = *option->def_elem;
    if (std::strcmp(item.defname, "transaction_read_only") != 0) continue;
    const PgQuery__Node* arg = item.arg;
    // READ ONLY is the integer constant 1, READ WRITE 0 (which protobuf may leave out).
    read_only = arg != nullptr && arg->node_case == PG_QUERY__NODE__NODE_A_CONST &&
                arg->a_const->val_case == PG_QUERY__A__CONST__VAL_IVAL &&
                arg->a_const->ival != nullptr && arg->a_const->ival->ival == 1;
  }
  return read_only;
}

bool EndsTransaction(const PgQuery__Node* stmt) {
  if (stmt == nullptr || stmt->node_case != PG_QUERY__NODE__NODE_TRANSACTION_STMT) return false;
  auto kind = stmt->transaction_stmt->kind;
  return (kind == PG_QUERY__TRANSACTION_STMT_KIND__TRANS_STMT_COMMIT ||
          kind == PG_QUERY__TRANSACTION_STMT_KIND__TRANS_STMT_ROLLBACK) &&
         !stmt->transaction_stmt->chain;
}

}  // namespace

const std::vector<std::string_view>& ReadOnlyFunctions() {
  // Sorted (binary_search). Aggregates, window functions, string, number, date, JSON and array
  // functions, and the settings and server identity (current_setting, inet_server_port): all
  // built-in and none writes. nextval, setval, set_config, pg_advisory_* and anything a user
  // defined are not here.
  static const std::vector<std::string_view> names = [] {
    std::vector<std::string_view> list = {
        "abs",
        "age",
        "array_agg",
        "array_length",
        "array_position",
        "array_to_string",
        "avg",
        "bool_and",
        "bool_or",
        "btrim",
        "cardinality",
        "ceil",
        "ceiling",
        "char_length",
        "character_length",
        "coalesce",
        "concat",
        "concat_ws",
        "count",
        "cume_dist",
        "current_database",
        "current_schema",
        "current_setting",
        "date_part",
        "date_trunc",
        "dense_rank",
        "every",
        "extract",
        "first_value",
        "floor",
        "format",
        "generate_series",
        "greatest",
        "inet_server_addr",
        "inet_server_port",
        "initcap",
        "json_agg",
        "json_build_array",
        "json_build_object",
        "jsonb_agg",
        "jsonb_build_array",
        "jsonb_build_object",
        "jsonb_extract_path",
        "jsonb_extract_path_text",
        "lag",
        "last_value",
        "lead",
        "least",
        "left",
        "length",
        "lower",
        "lpad",
        "ltrim",
        "max",
        "md5",
        "min",
        "mod",
        "now",
        "nth_value",
        "ntile",
        "octet_length",
        "overlay",
        "percent_rank",
        "position",
        "power",
        "rank",
        "regexp_match",
        "regexp_replace",
        "repeat",
        "replace",
        "reverse",
        "right",
        "round",
        "row_number",
        "rpad",
        "rtrim",
        "sign",
        "split_part",
        "sqrt",
        "statement_timestamp",
        "string_agg",
        "strpos",
        "substr",
        "substring",
        "sum",
        "timezone",
        "to_char",
        "to_date",
        "to_json",
        "to_jsonb",
        "to_number",
        "to_timestamp",
        "transaction_timestamp",
        "trim",
        "trunc",
        "unnest",
        "upper",
        "version",
    };
    std::sort(list.begin(), list.end());
    return list;
  }();
  return names;
}

bool MayBeRead(std::string_view sql) {
  std::string_view text = SkipBlanks(sql);
  if (!text.empty() && text[0] == '(') return true;
  for (std::string_view word : {"select", "with", "values", "table", "begin", "start"}) {
    if (StartsWithWord(text, word)) return true;
  }
  return false;
}

ReadKind ClassifyRead(const PgQuery__ParseResult& tree) {
  if (tree.n_stmts == 0) return ReadKind::kOther;
  auto stmt = [&tree](std::size_t i) { return tree.stmts[i]->stmt; };
  if (BeginReadOnly(stmt(0))) {
    for (std::size_t i = 1; i < tree.n_stmts; ++i) {
      bool last = i + 1 == tree.n_stmts;
      if (!PlainSelect(stmt(i)) && !(last && EndsTransaction(stmt(i)))) return ReadKind::kOther;
    }
    return ReadKind::kBeginsReadOnly;
  }
  for (std::size_t i = 0; i < tree.n_stmts; ++i) {
    if (!PlainSelect(stmt(i))) return ReadKind::kOther;
  }
  return ReadKind::kReadOnly;
}

}  // namespace zerodown::proxy
