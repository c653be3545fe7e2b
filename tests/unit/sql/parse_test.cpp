#include "zerodown/sql/parse.hpp"

#include <gtest/gtest.h>

namespace zerodown::sql {
namespace {

TEST(ParseSql, StatementsStartAtTheirFirstTokenNotAtLeadingComments) {
  auto file = ParseSql("m.sql",
                       "SET lock_timeout = '1s';\n"
                       "-- a comment\n"
                       "/* block */\n"
                       "  CREATE INDEX i ON t (a);\n"
                       "DROP TABLE x");
  ASSERT_TRUE(file.ok()) << file.error().Describe();
  ASSERT_EQ(file->statements.size(), 3u);
  EXPECT_EQ(file->statements[0].kind, "VariableSetStmt");
  EXPECT_EQ(file->statements[1].kind, "IndexStmt");
  EXPECT_EQ(file->statements[1].start.line, 4);
  EXPECT_EQ(file->statements[1].start.column, 3);
  EXPECT_EQ(file->statements[1].text, "CREATE INDEX i ON t (a)");
  EXPECT_EQ(file->statements[2].text, "DROP TABLE x");  // no trailing ';' at end of input
  ASSERT_EQ(file->comments.size(), 2u);
  EXPECT_EQ(file->comments[0].text, "-- a comment");
  EXPECT_EQ(file->comments[0].start.line, 2);
  EXPECT_EQ(file->comments[1].text, "/* block */");
}

TEST(ParseSql, ColumnsCountCharactersNotBytes) {
  auto file = ParseSql("m.sql", "SELECT 'héllo'; DROP TABLE t;");
  ASSERT_TRUE(file.ok());
  EXPECT_EQ(file->statements[1].start.line, 1);
  EXPECT_EQ(file->statements[1].start.column, 17);
}

TEST(ParseSql, SyntaxErrorNamesFileLineAndColumn) {
  auto file = ParseSql("004.sql", "SELECT 1;\nALTER TABLE t ADD COLUMN;\n");
  ASSERT_FALSE(file.ok());
  EXPECT_EQ(file.error().kind(), ErrorKind::kInvalidMigration);
  EXPECT_EQ(file.error().where(), "004.sql:2:25");
  EXPECT_NE(file.error().message().find("syntax error"), std::string::npos);
}

TEST(ParseSql, SyntaxErrorAfterMultibyteCharacters) {
  auto file = ParseSql("u.sql", "SELECT 'ü'; SELEC 1;");
  ASSERT_FALSE(file.ok());
  EXPECT_EQ(file.error().where(), "u.sql:1:13");
}

TEST(ParseSql, EmptyInputHasNoStatements) {
  auto file = ParseSql("e.sql", "-- nothing\n");
  ASSERT_TRUE(file.ok());
  EXPECT_TRUE(file->statements.empty());
  EXPECT_EQ(file->comments.size(), 1u);
}

TEST(ParseSqlFile, MissingFileIsNotFound) {
  auto file = ParseSqlFile("/nonexistent/zerodown.sql");
  ASSERT_FALSE(file.ok());
  EXPECT_EQ(file.error().kind(), ErrorKind::kNotFound);
}

TEST(LineIndex, MapsOffsetsToLinesAndColumns) {
  LineIndex index("ab\ncd\n\nef");
  EXPECT_EQ(index.At(0).line, 1);
  EXPECT_EQ(index.At(4).line, 2);
  EXPECT_EQ(index.At(4).column, 2);
  EXPECT_EQ(index.At(7).line, 4);
  EXPECT_EQ(index.At(7).column, 1);
}

}  // namespace
}  // namespace zerodown::sql
