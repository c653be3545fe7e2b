// WithColumnType: a column's type replaced in the statement as written, so that a rule's rewrite
// is SQL the user can paste. The type's end is found with the PostgreSQL scanner's tokens: the
// parse tree gives where a type starts, not where it ends.
#include <pg_query/pg_query.pb-c.h>

#include <algorithm>

#include "sql/rules/rule.hpp"
#include "sql/tokens.hpp"

namespace zerodown::sql::rules {
namespace {

// Tokens that start what may follow a type in a column definition or ALTER ... TYPE: a
// constraint, a collation, a USING expression, a storage clause. Key words that may be part of a
// type name (WITH/WITHOUT TIME ZONE, VARYING, PRECISION, interval fields) are not among them.
bool EndsType(int kind) {
  switch (kind) {
    case PG_QUERY__TOKEN__CONSTRAINT:
    case PG_QUERY__TOKEN__NOT:
    case PG_QUERY__TOKEN__NULL_P:
    case PG_QUERY__TOKEN__DEFAULT:
    case PG_QUERY__TOKEN__PRIMARY:
    case PG_QUERY__TOKEN__UNIQUE:
    case PG_QUERY__TOKEN__CHECK:
    case PG_QUERY__TOKEN__REFERENCES:
    case PG_QUERY__TOKEN__GENERATED:
    case PG_QUERY__TOKEN__COLLATE:
    case PG_QUERY__TOKEN__USING:
    case PG_QUERY__TOKEN__COMPRESSION:
    case PG_QUERY__TOKEN__STORAGE:
    case PG_QUERY__TOKEN__DEFERRABLE:
    case PG_QUERY__TOKEN__INITIALLY:
    case PG_QUERY__TOKEN__ASCII_44:  // ,
    case PG_QUERY__TOKEN__ASCII_59:  // ;
      return true;
    default:
      return false;
  }
}

}  // namespace

std::string WithColumnType(const StatementFacts& facts, const ColumnSite& site,
                           std::string_view replacement) {
  const Statement& statement = *facts.statement;
  const std::string alone = QuoteIdent(site.column) + " " + std::string(replacement);
  if (site.location < 0 || static_cast<std::size_t>(site.location) < statement.begin ||
      static_cast<std::size_t>(site.location) >= statement.end) {
    return alone;
  }
  const std::string text(statement.text);
  const std::size_t start = static_cast<std::size_t>(site.location) - statement.begin;
  auto tokens = ScanTokens(text);
  if (!tokens.ok()) return alone;
  std::size_t end = std::string::npos;
  int depth = 0;
  for (const Token& token : *tokens) {
    if (token.begin < start || token.comment) continue;
    if (token.kind == PG_QUERY__TOKEN__ASCII_40) ++depth;               // (
    if (token.kind == PG_QUERY__TOKEN__ASCII_41 && --depth < 0) break;  // ) of the column list
    if (depth == 0 && EndsType(token.kind)) break;
    end = token.end;
  }
  if (end == std::string::npos) return alone;
  return text.substr(0, start) + std::string(replacement) + text.substr(end) + ";";
}

}  // namespace zerodown::sql::rules
