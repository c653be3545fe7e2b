#include "zerodown/sql/index_definition.hpp"

#include <fmt/format.h>
#include <pg_query.h>
#include <pg_query/pg_query.pb-c.h>

#include <algorithm>
#include <cctype>
#include <cstdlib>
#include <cstring>
#include <memory>
#include <vector>

namespace zerodown::sql {
namespace {

struct ParseResultFree {
  void operator()(PgQuery__ParseResult* tree) const {
    pg_query__parse_result__free_unpacked(tree, nullptr);
  }
};
using ParseTree = std::unique_ptr<PgQuery__ParseResult, ParseResultFree>;

// Replaces a string the unpacked tree owns: protobuf-c's default allocator is malloc/free, and
// free_unpacked frees every string but the shared empty default.
void ReplaceString(char*& field, const std::string& value) {
  if (field != nullptr && field != protobuf_c_empty_string) std::free(field);
  field = strdup(value.c_str());
}

void RenameIfListed(char*& field, const std::map<std::string, std::string>& columns) {
  if (field == nullptr) return;
  auto it = columns.find(field);
  if (it != columns.end()) ReplaceString(field, it->second);
}

// Visits every message under `message`, whatever its type, through protobuf-c's descriptors, so
// that a column reference is found in any expression the grammar allows (function calls, casts,
// CASE, operators, the predicate) without a walker per node type.
void RenameColumns(ProtobufCMessage* message, const std::map<std::string, std::string>& columns) {
  if (message == nullptr) return;
  const ProtobufCMessageDescriptor* descriptor = message->descriptor;
  if (descriptor == &pg_query__column_ref__descriptor) {
    // The last field names the column; an index expression reads one table, so any
    // qualification before it names that table.
    auto* ref = reinterpret_cast<PgQuery__ColumnRef*>(message);
    if (ref->n_fields > 0 &&
        ref->fields[ref->n_fields - 1]->node_case == PG_QUERY__NODE__NODE_STRING) {
      RenameIfListed(ref->fields[ref->n_fields - 1]->string->sval, columns);
    }
    return;
  }
  if (descriptor == &pg_query__index_elem__descriptor) {
    RenameIfListed(reinterpret_cast<PgQuery__IndexElem*>(message)->name, columns);
  }
  auto* base = reinterpret_cast<char*>(message);
  for (unsigned i = 0; i < descriptor->n_fields; ++i) {
    const ProtobufCFieldDescriptor& field = descriptor->fields[i];
    if (field.type != PROTOBUF_C_TYPE_MESSAGE) continue;
    if ((field.flags & PROTOBUF_C_FIELD_FLAG_ONEOF) != 0 &&
        *reinterpret_cast<const uint32_t*>(base + field.quantifier_offset) != field.id) {
      continue;  // another member of the oneof is set
    }
    if (field.label == PROTOBUF_C_LABEL_REPEATED) {
      std::size_t count = *reinterpret_cast<const std::size_t*>(base + field.quantifier_offset);
      auto** items = *reinterpret_cast<ProtobufCMessage***>(base + field.offset);
      for (std::size_t n = 0; n < count; ++n) RenameColumns(items[n], columns);
    } else {
      RenameColumns(*reinterpret_cast<ProtobufCMessage**>(base + field.offset), columns);
    }
  }
}

// Lower-case letters, digits, _ and $, not starting with a digit or $, and never a keyword of
// ours: the names this is given are prefixed with "_zd_".
bool NeedsNoQuotes(std::string_view name) {
  if (name.empty() || name.size() > 63 || !(std::islower(name[0]) || name[0] == '_')) return false;
  return std::all_of(name.begin(), name.end(), [](char c) {
    return std::islower(c) || std::isdigit(c) || c == '_' || c == '$';
  });
}

Error NotAnIndex(std::string_view definition, std::string_view why) {
  return Error(ErrorKind::kInvalidMigration,
               fmt::format("cannot read the index definition \"{}\": {}", definition, why),
               "Drop the index before this migration and create it again after it.");
}

Result<ParseTree> Parse(std::string_view definition) {
  std::string text(definition);
  PgQueryProtobufParseResult parsed = pg_query_parse_protobuf(text.c_str());
  if (parsed.error != nullptr) {
    Error error = NotAnIndex(definition, parsed.error->message);
    pg_query_free_protobuf_parse_result(parsed);
    return error;
  }
  ParseTree tree(pg_query__parse_result__unpack(
      nullptr, parsed.parse_tree.len, reinterpret_cast<const uint8_t*>(parsed.parse_tree.data)));
  pg_query_free_protobuf_parse_result(parsed);
  if (!tree) return Error(ErrorKind::kInternal, "cannot decode libpg_query's parse tree");
  return tree;
}

}  // namespace

Result<std::string> RewriteIndexDefinition(std::string_view definition,
                                           const IndexRewrite& rewrite) {
  if (!NeedsNoQuotes(rewrite.name)) {
    return Error(ErrorKind::kInternal,
                 fmt::format("index name \"{}\" needs quotes, which libpg_query 15 does not give "
                             "an index name when it deparses",
                             rewrite.name));
  }
  auto tree = Parse(definition);
  if (!tree.ok()) return tree.error();
  PgQuery__ParseResult* result = tree->get();
  if (result->n_stmts != 1 || result->stmts[0]->stmt == nullptr ||
      result->stmts[0]->stmt->node_case != PG_QUERY__NODE__NODE_INDEX_STMT) {
    return NotAnIndex(definition, "it is not one CREATE INDEX statement");
  }
  PgQuery__IndexStmt* index = result->stmts[0]->stmt->index_stmt;
  ReplaceString(index->idxname, rewrite.name);
  index->concurrent = 1;
  // The table (a RangeVar) holds no column reference: only the key, INCLUDE and WHERE do.
  RenameColumns(&index->base, rewrite.columns);

  std::vector<uint8_t> packed(pg_query__parse_result__get_packed_size(result));
  pg_query__parse_result__pack(result, packed.data());
  PgQueryProtobuf protobuf{packed.size(), reinterpret_cast<char*>(packed.data())};
  PgQueryDeparseResult deparsed = pg_query_deparse_protobuf(protobuf);
  if (deparsed.error != nullptr) {
    Error error(ErrorKind::kInternal,
                fmt::format("libpg_query cannot deparse the index definition \"{}\": {}",
                            definition, deparsed.error->message));
    pg_query_free_deparse_result(deparsed);
    return error;
  }
  std::string out = deparsed.query;
  pg_query_free_deparse_result(deparsed);
  return out;
}

}  // namespace zerodown::sql
