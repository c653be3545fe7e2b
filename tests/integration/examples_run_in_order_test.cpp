// A numbered set of migrations runs in order, each file the way a user tries it first: `start`
// then `rollback` leaves the schema exactly as it was (pg_dump of every schema but zerodown's
// equal), then `start` and `complete` succeed. By default the set is examples/operations/, which
// uses every operation and option of pgroll's format; ZERODOWN_EXAMPLES_DIR names another
// directory of pgroll-format files (pgroll's own examples/, say) to run the same way.
#include <gtest/gtest.h>

#include <algorithm>
#include <cstdlib>
#include <filesystem>
#include <vector>

#include "support/database.hpp"

namespace zerodown::testing {
namespace {

namespace fs = std::filesystem;

std::string ExamplesDir() {
  const char* dir = std::getenv("ZERODOWN_EXAMPLES_DIR");
  return dir != nullptr && *dir != '\0' ? dir : ZERODOWN_SOURCE_DIR "/examples/operations";
}

// The migration files of `dir` in file-name order (.yaml, .yml, .json, .sql).
std::vector<fs::path> MigrationFiles(const std::string& dir) {
  std::vector<fs::path> files;
  for (const auto& entry : fs::directory_iterator(dir)) {
    std::string ext = entry.path().extension().string();
    if (ext == ".yaml" || ext == ".yml" || ext == ".json" || ext == ".sql") {
      files.push_back(entry.path());
    }
  }
  std::sort(files.begin(), files.end());
  return files;
}

// The first line where `a` and `b` differ, with its neighbours, for a readable failure.
std::string FirstDifference(const std::string& a, const std::string& b) {
  std::size_t at = 0;
  while (at < a.size() && at < b.size() && a[at] == b[at]) ++at;
  std::size_t from = a.rfind('\n', at > 200 ? at - 200 : 0);
  from = from == std::string::npos ? 0 : from;
  return "before: ..." + a.substr(from, 400) + "\n\nafter: ..." + b.substr(from, 400);
}

// Runs one file's two rounds; returns false (with failures recorded) when any step fails.
bool RunFile(const std::string& db, const fs::path& file) {
  std::string base = "--postgres-url " + Quoted(db) + " ";
  std::string path = Quoted(file.string());
  std::string out;
  std::string before = SchemaDump(db);
  if (RunZerodown(base + "start " + path, &out) != 0) {
    ADD_FAILURE() << "start failed:\n" << out;
    return false;
  }
  if (RunZerodown(base + "rollback", &out) != 0) {
    ADD_FAILURE() << "rollback failed:\n" << out;
    return false;
  }
  std::string after = SchemaDump(db);
  bool restored = before == after;
  EXPECT_TRUE(restored) << "rollback did not restore the schema\n"
                        << FirstDifference(before, after);
  if (RunZerodown(base + "start " + path, &out) != 0) {
    ADD_FAILURE() << "start after rollback failed:\n" << out;
    return false;
  }
  if (RunZerodown(base + "complete", &out) != 0) {
    ADD_FAILURE() << "complete failed:\n" << out;
    return false;
  }
  return restored;
}

TEST(ExamplesRunInOrderTest, EveryFileRollsBackExactlyThenCompletes) {
  std::string dir = ExamplesDir();
  std::vector<fs::path> files = MigrationFiles(dir);
  ASSERT_FALSE(files.empty()) << "no migration files in " << dir;
  std::string db = FreshDatabase();
  std::string out;
  ASSERT_EQ(RunZerodown("--postgres-url " + Quoted(db) + " init", &out), 0) << out;
  int passed = 0;
  int failed = 0;
  for (const auto& file : files) {
    SCOPED_TRACE(file.filename().string());
    bool ok = RunFile(db, file);
    ok ? ++passed : ++failed;
    std::printf("%s %s\n", ok ? "ok    " : "FAILED", file.filename().c_str());
  }
  std::printf("examples in %s:\n%d passed, %d failed\n", dir.c_str(), passed, failed);
}

}  // namespace
}  // namespace zerodown::testing
