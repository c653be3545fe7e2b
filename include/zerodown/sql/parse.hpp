// Parsing plain SQL migrations with libpg_query (the PostgreSQL 15 grammar): statements with
// their JSON parse trees and source positions, and the comments around them. It does not judge
// the SQL (see lint.hpp) and never connects to a database.
#pragma once

#include <cstddef>
#include <memory>
#include <nlohmann/json.hpp>
#include <string>
#include <string_view>
#include <vector>

#include "zerodown/common/error.hpp"

namespace zerodown::sql {

// A 1-based line and column (columns count UTF-8 characters, as editors do).
struct Position {
  int line = 1;
  int column = 1;
};

// Maps byte offsets in a text to line:column. Owns a copy of nothing: `text` must outlive it.
class LineIndex {
 public:
  explicit LineIndex(std::string_view text);
  // The position of byte `offset` (clamped to the text).
  Position At(std::size_t offset) const;
  // The byte offset of the 1-based character position `char_pos` (as libpg_query reports
  // errors), clamped to the text.
  std::size_t ByteOffsetOfChar(int char_pos) const;

 private:
  std::string_view text_;
  std::vector<std::size_t> line_starts_;
};

// One top-level statement of a file.
struct Statement {
  nlohmann::json node;    // the statement node, e.g. {"AlterTableStmt": {...}}
  std::string kind;       // its node type, e.g. "AlterTableStmt"
  std::size_t begin = 0;  // byte offset of its first token (after leading comments)
  std::size_t end = 0;    // byte offset just past its last token (before the ';')
  Position start;         // line:column of `begin`
  Position finish;        // line:column of `end`
  std::string_view text;  // the statement's SQL, from `begin` to `end`
};

// A `--` or `/* */` comment, as the PostgreSQL scanner found it.
struct Comment {
  std::size_t begin = 0;
  std::size_t end = 0;
  Position start;
  Position finish;
  std::string_view text;  // including the comment markers
};

// A parsed SQL file. The statements' and comments' views point into `text`, so the object is
// move-only and keeps its text on the heap.
struct ParsedFile {
  std::string path;                   // as given; "<stdin>" for standard input
  std::unique_ptr<std::string> text;  // the SQL
  std::vector<Statement> statements;
  std::vector<Comment> comments;
  std::unique_ptr<LineIndex> lines;
};

// Parses `text` (read from `path`, used in messages only). A syntax error is an Error of kind
// kInvalidMigration whose where() is "path:line:column" and whose message is the parser's.
Result<ParsedFile> ParseSql(std::string path, std::string text);

// Reads `path` ("-" reads standard input) and parses it. A file that cannot be read is an Error
// of kind kNotFound.
Result<ParsedFile> ParseSqlFile(const std::string& path);

}  // namespace zerodown::sql
