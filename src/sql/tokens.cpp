#include "sql/tokens.hpp"

#include <pg_query.h>
#include <pg_query/pg_query.pb-c.h>

namespace zerodown::sql {

Result<std::vector<Token>> ScanTokens(const std::string& text) {
  PgQueryScanResult result = pg_query_scan(text.c_str());
  if (result.error != nullptr) {
    Error error(ErrorKind::kInvalidMigration, result.error->message);
    pg_query_free_scan_result(result);
    return error;
  }
  PgQuery__ScanResult* scan = pg_query__scan_result__unpack(
      nullptr, result.pbuf.len, reinterpret_cast<const std::uint8_t*>(result.pbuf.data));
  pg_query_free_scan_result(result);
  if (scan == nullptr) return Error(ErrorKind::kInternal, "cannot decode the libpg_query scan");
  std::vector<Token> tokens;
  tokens.reserve(scan->n_tokens);
  for (std::size_t i = 0; i < scan->n_tokens; ++i) {
    const PgQuery__ScanToken* t = scan->tokens[i];
    tokens.push_back(
        {static_cast<std::size_t>(t->start), static_cast<std::size_t>(t->end),
         static_cast<int>(t->token),
         t->token == PG_QUERY__TOKEN__SQL_COMMENT || t->token == PG_QUERY__TOKEN__C_COMMENT});
  }
  pg_query__scan_result__free_unpacked(scan, nullptr);
  return tokens;
}

}  // namespace zerodown::sql
