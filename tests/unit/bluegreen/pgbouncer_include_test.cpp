// Following PgBouncer's `%include` to the file that holds an entry's [databases] line: relative
// paths from the working directory, the section carried across files, and a missing file, a
// cycle or too deep a nesting named with the including file and line.
#include "bluegreen/pgbouncer_include.hpp"

#include <gtest/gtest.h>

#include <map>

namespace zerodown::bluegreen {
namespace {

namespace fs = std::filesystem;

// Files in memory, relative paths taken from /run/pgbouncer.
IniFiles Files(std::map<std::string, std::string> texts) {
  return {"/run/pgbouncer",
          [texts = std::move(texts)](const fs::path& path) -> Result<std::string> {
            auto it = texts.find(path.string());
            if (it == texts.end()) return Error(ErrorKind::kNotFound, "No such file or directory");
            return it->second;
          }};
}

TEST(PgBouncerInclude, ClassifiesIncludeLinesAsPgBouncerDoes) {
  EXPECT_EQ(ClassifyLine("%include conf/db.ini").kind, IniLineKind::kInclude);
  EXPECT_EQ(ClassifyLine("  %include\t /etc/db.ini \r").value, "/etc/db.ini");
  EXPECT_EQ(ClassifyLine("%includex.ini").kind, IniLineKind::kOther);
  EXPECT_EQ(ClassifyLine("; %include db.ini").kind, IniLineKind::kOther);
  EXPECT_EQ(ClassifyLine("[ Databases ]").databases, true);
  EXPECT_EQ(ClassifyLine("app = dbname=x").value, "app");
}

TEST(PgBouncerInclude, FindsTheLineInAnIncludedFileRelativeToTheWorkingDirectory) {
  auto files =
      Files({{"/etc/pgbouncer/pgbouncer.ini",
              "[pgbouncer]\nlisten_port = 6432\n%include conf/../conf/db.ini\n"},
             {"/run/pgbouncer/conf/db.ini",
              "; the entries\r\n[databases]\r\nother = dbname=o\r\napp = dbname=shop\r\n"}});
  auto found = FindDatabaseEntry("/etc/pgbouncer/pgbouncer.ini", "app", files);
  ASSERT_TRUE(found.ok()) << found.error().Describe();
  ASSERT_TRUE(found->has_value());
  const EntryLocation& at = **found;
  EXPECT_EQ(at.file, "/run/pgbouncer/conf/db.ini");
  EXPECT_EQ(at.number, 4);
  EXPECT_EQ(at.line.text, "app = dbname=shop");
  EXPECT_EQ(ReplaceLine(at.text, at.line, "app = dbname=green"),
            "; the entries\r\n[databases]\r\nother = dbname=o\r\napp = dbname=green\r\n");
}

TEST(PgBouncerInclude, TheSectionCarriesIntoAnIncludeAndBackOut) {
  auto files = Files({{"/main.ini",
                       "[databases]\n%include /entries.ini\n%include /tail.ini\n"
                       "late = dbname=l\n"},
                      {"/entries.ini", "app = dbname=shop\n"},
                      {"/tail.ini", "[pgbouncer]\npool_mode = transaction\n"}});
  auto app = FindDatabaseEntry("/main.ini", "app", files);
  ASSERT_TRUE(app.ok() && app->has_value());
  EXPECT_EQ((*app)->file, "/entries.ini");
  // /tail.ini left PgBouncer in [pgbouncer]: `late` is a setting there, not a database.
  auto late = FindDatabaseEntry("/main.ini", "late", files);
  ASSERT_TRUE(late.ok());
  EXPECT_FALSE(late->has_value());
}

TEST(PgBouncerInclude, AMissingIncludeNamesTheIncludingFileAndLine) {
  auto files = Files({{"/main.ini", "[databases]\n%include db.ini\n"}});
  auto found = FindDatabaseEntry("/main.ini", "app", files);
  ASSERT_FALSE(found.ok());
  EXPECT_EQ(found.error().kind(), ErrorKind::kNotFound);
  EXPECT_EQ(found.error().message(),
            "the PgBouncer ini file /main.ini at line 2 includes /run/pgbouncer/db.ini, which "
            "cannot be read: No such file or directory");
  EXPECT_NE(found.error().fix().find("absolute"), std::string::npos);
  auto top = FindDatabaseEntry("/nowhere.ini", "app", files);
  ASSERT_FALSE(top.ok());
  EXPECT_EQ(top.error().kind(), ErrorKind::kNotFound);
}

TEST(PgBouncerInclude, ACycleIsRefusedWhereItCloses) {
  auto files = Files({{"/a.ini", "[databases]\n%include /b.ini\n"},
                      {"/b.ini", "\n%include /run/pgbouncer/../../a.ini\n"}});
  auto found = FindDatabaseEntry("/a.ini", "app", files);
  ASSERT_FALSE(found.ok());
  EXPECT_EQ(found.error().kind(), ErrorKind::kConflict);
  EXPECT_NE(found.error().message().find("/b.ini at line 2 includes /a.ini"), std::string::npos)
      << found.error().message();
  EXPECT_NE(found.error().message().find("cycle"), std::string::npos);
}

// A chain /f0.ini → /f1.ini → … → /f<n>.ini, the entry in the last.
std::map<std::string, std::string> Chain(int n) {
  std::map<std::string, std::string> texts;
  for (int i = 0; i < n; ++i) {
    texts["/f" + std::to_string(i) + ".ini"] = "%include /f" + std::to_string(i + 1) + ".ini\n";
  }
  texts["/f" + std::to_string(n) + ".ini"] = "[databases]\napp = dbname=x\n";
  return texts;
}

TEST(PgBouncerInclude, FollowsTenLevelsAsPgBouncerDoesAndNoMore) {
  auto ten = FindDatabaseEntry("/f0.ini", "app", Files(Chain(kMaxIncludeDepth)));
  ASSERT_TRUE(ten.ok()) << ten.error().Describe();
  EXPECT_EQ((*ten)->file, "/f10.ini");
  auto eleven = FindDatabaseEntry("/f0.ini", "app", Files(Chain(kMaxIncludeDepth + 1)));
  ASSERT_FALSE(eleven.ok());
  EXPECT_EQ(eleven.error().kind(), ErrorKind::kConflict);
  EXPECT_NE(eleven.error().message().find("/f10.ini at line 1 includes /f11.ini deeper"),
            std::string::npos)
      << eleven.error().message();
}

TEST(PgBouncerInclude, AnEntryNamedInTwoFilesIsRefused) {
  auto files = Files({{"/main.ini", "[databases]\napp = dbname=a\n%include /more.ini\n"},
                      {"/more.ini", "app = dbname=b\n"}});
  auto found = FindDatabaseEntry("/main.ini", "app", files);
  ASSERT_FALSE(found.ok());
  EXPECT_EQ(found.error().kind(), ErrorKind::kConflict);
  EXPECT_NE(found.error().message().find("/main.ini at line 2 and in /more.ini at line 1"),
            std::string::npos)
      << found.error().message();
}

}  // namespace
}  // namespace zerodown::bluegreen
