// The parts of the SQL translation that read one statement's text (its expressions, where it
// is, an excerpt for messages), and what CREATE TABLE and a column definition translate to.
#pragma once

#include <cstddef>
#include <limits>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <vector>

#include "sql/tokens.hpp"
#include "zerodown/common/error.hpp"
#include "zerodown/sql/parse.hpp"

namespace zerodown::sql {

// A String node's text.
inline std::string Str(const nlohmann::json& node) {
  return node.at("String").at("sval").get<std::string>();
}

// One statement of a parsed file, with the file's tokens.
struct StatementText {
  const ParsedFile& file;
  const std::vector<Token>& tokens;
  const Statement& statement;

  // The SQL text of an expression node (expr_text.hpp), ending before `bound` and within the
  // statement; `offset` is where the node's locations count from.
  std::string ExprText(const nlohmann::json& node,
                       std::size_t bound = std::numeric_limits<std::size_t>::max(),
                       std::size_t offset = 0) const;
  std::string Where() const;    // path:line:column
  std::string Excerpt() const;  // its first line, at most 80 characters
};

// A column definition as an add_column/create_table column; an error names a column
// constraint zerodown does not translate.
Result<nlohmann::json> TranslateColumn(const StatementText& s, const std::string& table,
                                       const nlohmann::json& def);

// CREATE TABLE as a create_table operation, or the table constraint type it has no online form
// for (e.g. "FOREIGN").
struct TableTranslation {
  nlohmann::json operation;
  std::optional<std::string> untranslated_constraint;
};
Result<TableTranslation> TranslateCreateTable(const StatementText& s, const nlohmann::json& body);

}  // namespace zerodown::sql
