#include "zerodown/sql/parse.hpp"

#include <pg_query.h>

#include <algorithm>
#include <cstdint>
#include <fstream>
#include <iostream>
#include <iterator>
#include <set>
#include <sstream>

#include "sql/tokens.hpp"

namespace zerodown::sql {
namespace {

std::string Where(const std::string& path, Position position) {
  return path + ":" + std::to_string(position.line) + ":" + std::to_string(position.column);
}

bool IsContinuationByte(char c) { return (static_cast<unsigned char>(c) & 0xC0) == 0x80; }

}  // namespace

LineIndex::LineIndex(std::string_view text) : text_(text) {
  line_starts_.push_back(0);
  for (std::size_t i = 0; i < text.size(); ++i) {
    if (text[i] == '\n') line_starts_.push_back(i + 1);
  }
}

Position LineIndex::At(std::size_t offset) const {
  offset = std::min(offset, text_.size());
  auto it = std::upper_bound(line_starts_.begin(), line_starts_.end(), offset);
  const std::size_t line = static_cast<std::size_t>(std::distance(line_starts_.begin(), it));
  const std::size_t start = line_starts_[line - 1];
  int column = 1;
  for (std::size_t i = start; i < offset; ++i) {
    if (!IsContinuationByte(text_[i])) ++column;
  }
  return {static_cast<int>(line), column};
}

std::size_t LineIndex::ByteOffsetOfChar(int char_pos) const {
  int seen = 0;
  for (std::size_t i = 0; i < text_.size(); ++i) {
    if (IsContinuationByte(text_[i])) continue;
    if (++seen == char_pos) return i;
  }
  return text_.size();
}

namespace {

// The parse tree of `file` as JSON, without the inside of queries; kInvalidMigration at the
// position PostgreSQL's grammar stops at.
Result<nlohmann::json> ParseTree(const ParsedFile& file) {
  const std::string& sql = *file.text;
  PgQueryParseResult parsed = pg_query_parse(sql.c_str());
  if (parsed.error != nullptr) {
    // libpg_query reports the error position in characters, 1-based (0: unknown).
    const int cursor = parsed.error->cursorpos;
    const std::size_t offset = cursor > 0 ? file.lines->ByteOffsetOfChar(cursor) : 0;
    Error error = Error(ErrorKind::kInvalidMigration, parsed.error->message,
                        "fix the SQL: zerodown lints what PostgreSQL 15 would parse")
                      .WithWhere(Where(file.path, file.lines->At(offset)));
    pg_query_free_parse_result(parsed);
    return error;
  }
  // Rules read DDL, never the inside of queries: dropping those subtrees while parsing saves
  // most of the allocation for files full of INSERT/UPDATE/SELECT (about a third of the time).
  static const std::set<std::string, std::less<>> kSkipped = {
      "targetList", "fromClause", "whereClause", "valuesLists",  "returningList",
      "withClause", "sortClause", "groupClause", "havingClause", "onConflictClause"};
  nlohmann::json tree = nlohmann::json::parse(
      parsed.parse_tree,
      [](int /*depth*/, nlohmann::json::parse_event_t event, nlohmann::json& parsed_value) {
        return event != nlohmann::json::parse_event_t::key ||
               kSkipped.count(parsed_value.get_ref<const std::string&>()) == 0;
      });
  pg_query_free_parse_result(parsed);
  return tree;
}

void AddComments(ParsedFile& file, const std::vector<Token>& tokens) {
  for (const Token& token : tokens) {
    if (!token.comment) continue;
    Comment comment;
    comment.begin = token.begin;
    comment.end = token.end;
    comment.start = file.lines->At(token.begin);
    comment.finish = file.lines->At(token.end);
    comment.text = std::string_view(*file.text).substr(token.begin, token.end - token.begin);
    file.comments.push_back(comment);
  }
}

// One statement of the tree, placed by the scanner's tokens. libpg_query leaves out
// stmt_location when it is 0 and stmt_len when the statement runs to the end of the input; the
// range starts right after the previous ';', so it includes leading whitespace and comments,
// which the tokens let us skip.
Statement StatementOf(const ParsedFile& file, const std::vector<Token>& tokens,
                      nlohmann::json& raw) {
  const std::string& sql = *file.text;
  const std::size_t location = raw.value("stmt_location", std::size_t{0});
  const std::size_t length = raw.value("stmt_len", std::size_t{0});
  const std::size_t range_end = length == 0 ? sql.size() : location + length;
  auto first =
      std::lower_bound(tokens.begin(), tokens.end(), location,
                       [](const Token& token, std::size_t offset) { return token.begin < offset; });
  while (first != tokens.end() && first->comment) ++first;
  Statement statement;
  statement.begin = first != tokens.end() ? first->begin : location;
  statement.end = statement.begin;
  for (auto it = first; it != tokens.end() && it->begin < range_end; ++it) {
    if (!it->comment) statement.end = it->end;
  }
  statement.start = file.lines->At(statement.begin);
  statement.finish = file.lines->At(statement.end);
  statement.text = std::string_view(sql).substr(statement.begin, statement.end - statement.begin);
  auto& node = raw["stmt"];
  if (node.is_object() && !node.empty()) {
    statement.kind = node.begin().key();
    statement.node = std::move(node);
  }
  return statement;
}

}  // namespace

Result<ParsedFile> ParseSql(std::string path, std::string text) {
  ParsedFile file;
  file.path = std::move(path);
  file.text = std::make_unique<std::string>(std::move(text));
  file.lines = std::make_unique<LineIndex>(*file.text);
  auto tree = ParseTree(file);
  if (!tree.ok()) return tree.error();
  // libpg_query's own protobuf-c decoder reads the scan (libprotobuf-c-dev provides its header).
  auto tokens = ScanTokens(*file.text);
  if (!tokens.ok()) return tokens.error().WithWhere(file.path);
  AddComments(file, *tokens);
  auto& stmts = tree.value()["stmts"];
  file.statements.reserve(stmts.size());
  for (auto& raw : stmts) file.statements.push_back(StatementOf(file, *tokens, raw));
  return file;
}

Result<ParsedFile> ParseSqlFile(const std::string& path) {
  std::string text;
  if (path == "-") {
    std::ostringstream buffer;
    buffer << std::cin.rdbuf();
    text = buffer.str();
    return ParseSql("<stdin>", std::move(text));
  }
  std::ifstream in(path, std::ios::binary);
  if (!in) {
    return Error(ErrorKind::kNotFound, "cannot read " + path,
                 "check the path; use - to read the SQL from standard input");
  }
  text.assign(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
  return ParseSql(path, std::move(text));
}

}  // namespace zerodown::sql
