// A migration file too large to parse within bounds is refused before a byte of it is parsed,
// with the limit and how to raise it, by every command that reads files (plan, start, migrate,
// lint); --max-file-size raises the limit. A generated file of tens of MB used to take gigabytes
// of memory and minutes before any answer (docs/cli.md, "Large files").
#include <gtest/gtest.h>
#include <unistd.h>

#include <chrono>
#include <filesystem>
#include <fstream>

#include "support/database.hpp"

namespace zerodown {
namespace {

// A valid migration of `bytes` or more: one create_table padded with comment lines (cheap to
// write, and it parses if let through).
std::string WriteLarge(const std::string& name, std::size_t bytes) {
  std::string path = ::testing::TempDir() + std::to_string(getpid()) + "_" + name;
  std::ofstream out(path);
  bool sql = name.ends_with(".sql");
  std::string comment = sql ? "-- " : "# ";
  out << (sql ? "CREATE TABLE big (id bigint PRIMARY KEY);\n"
              : "operations:\n  - create_table:\n      name: big\n      columns:\n"
                "        - name: id\n          type: bigint\n          pk: true\n");
  std::string line = comment + std::string(96, 'x') + "\n";
  for (std::size_t written = 0; written < bytes; written += line.size()) out << line;
  return path;
}

TEST(LargeFileRefused, PlanStartAndLintRefuseBeforeParsing) {
  std::string yaml = WriteLarge("big.yaml", 5 * 1024 * 1024);
  std::string sql = WriteLarge("big.sql", 2 * 1024 * 1024);
  std::string out;
  auto began = std::chrono::steady_clock::now();
  EXPECT_EQ(testing::RunZerodown("plan --format json " + testing::Quoted(yaml), &out), 2) << out;
  EXPECT_NE(out.find("the file is 5.0 MB, over the 4.0 MB limit for a migration file"),
            std::string::npos)
      << out;
  EXPECT_NE(out.find("--max-file-size 6MB"), std::string::npos) << out;
  EXPECT_NE(out.find(yaml), std::string::npos) << out;
  // start refuses before it connects: this URL reaches no server.
  EXPECT_EQ(testing::RunZerodown(
                "--postgres-url 'host=/nonexistent' start " + testing::Quoted(yaml), &out),
            2)
      << out;
  EXPECT_NE(out.find("over the 4.0 MB limit"), std::string::npos) << out;
  EXPECT_NE(testing::RunZerodown("lint " + testing::Quoted(sql), &out), 0) << out;
  EXPECT_NE(out.find("the file is 2.0 MB, over the 1.0 MB limit for a SQL file"), std::string::npos)
      << out;
  EXPECT_LT(std::chrono::steady_clock::now() - began, std::chrono::seconds(10));

  // Raised, the same files are read.
  EXPECT_EQ(
      testing::RunZerodown("--max-file-size 8MB plan --format json " + testing::Quoted(yaml), &out),
      0)
      << out;
  EXPECT_NE(out.find("\"big\""), std::string::npos) << out;
  EXPECT_EQ(testing::RunZerodown("lint --max-file-size 3MB " + testing::Quoted(sql), &out), 0)
      << out;
  EXPECT_EQ(testing::RunZerodown("--max-file-size 10s plan " + testing::Quoted(yaml), &out), 2)
      << out;
  EXPECT_NE(out.find("is not a size"), std::string::npos) << out;
  std::filesystem::remove(yaml);
  std::filesystem::remove(sql);
}

}  // namespace
}  // namespace zerodown
