// The text of a parse-tree node in its source: where an expression libpg_query parsed begins and
// ends among the file's tokens, and a type name written as PostgreSQL's own docs write it. Used by
// the translation of plain SQL into operations (translate.cpp).
#pragma once

#include <cstddef>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "sql/tokens.hpp"

namespace zerodown::sql {

// The SQL text of an expression node in `text` (scanned into `tokens`): from its first token to
// the end of the expression, which is the first top-level comma or semicolon, an unmatched
// closing parenthesis, or `bound`. `offset` shifts locations from a parse of the statement alone.
std::string ExprText(const std::string& text, const std::vector<Token>& tokens,
                     const nlohmann::json& node, std::size_t bound, std::size_t offset);

// A TypeName node as SQL: pg_catalog's internal names (int8, bool, …) under their SQL names, with
// its modifiers and array bounds.
std::string TypeName(const nlohmann::json& type);

}  // namespace zerodown::sql
