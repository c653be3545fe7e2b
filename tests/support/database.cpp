#include "support/database.hpp"

#include <gtest/gtest.h>
#include <sys/wait.h>

#include <algorithm>
#include <array>
#include <cctype>
#include <cstdio>
#include <memory>
#include <string_view>

namespace zerodown::testing {

pg::TempCluster& SharedCluster() {
  static auto cluster = std::make_unique<pg::TempCluster>();
  return *cluster;
}

std::string FreshDatabase() {
  const auto* info = ::testing::UnitTest::GetInstance()->current_test_info();
  std::string name = info ? std::string(info->test_suite_name()) + "_" + info->name() : "test";
  std::transform(name.begin(), name.end(), name.begin(), [](unsigned char c) {
    return std::isalnum(c) ? static_cast<char>(std::tolower(c)) : '_';
  });
  name = name.substr(0, 60);
  auto& cluster = SharedCluster();
  pg::Connection admin = pg::Connection::Open(cluster.ConnInfo("postgres"));
  admin.Exec("DROP DATABASE IF EXISTS " + admin.Ident(name) + " WITH (FORCE)");
  return cluster.CreateDatabase(name);
}

pg::Connection Connect(const std::string& conninfo) {
  pg::Connection conn = pg::Connection::Open(conninfo);
  // A test's sessions play the application for a health monitor running in the test.
  conn.CountAsApplication();
  return conn;
}

std::string Quoted(const std::string& s) { return "'" + s + "'"; }

std::string SchemaDump(const std::string& conninfo) {
  std::string command = SharedCluster().bindir() +
                        "/pg_dump --schema-only --no-owner --exclude-schema=zerodown " +
                        Quoted(conninfo) + " 2>&1";
  std::unique_ptr<FILE, int (*)(FILE*)> pipe(popen(command.c_str(), "r"), pclose);
  std::string out;
  std::array<char, 4096> buffer{};
  while (pipe && fgets(buffer.data(), buffer.size(), pipe.get()) != nullptr) {
    std::string_view line = buffer.data();
    if (line.rfind("\\restrict ", 0) != 0 && line.rfind("\\unrestrict ", 0) != 0) out += line;
  }
  return out;
}

int RunZerodown(const std::string& args, std::string* output, const std::string& env) {
#ifdef ZERODOWN_BINARY
  std::string binary = ZERODOWN_BINARY;
#else
  std::string binary = "zerodown";
#endif
  std::string command = (env.empty() ? "" : "env " + env + " ") + binary + " " + args + " 2>&1";
  FILE* pipe = popen(command.c_str(), "r");
  if (pipe == nullptr) return -1;
  std::array<char, 4096> buffer{};
  std::string text;
  while (std::size_t n = fread(buffer.data(), 1, buffer.size(), pipe))
    text.append(buffer.data(), n);
  int status = pclose(pipe);
  if (output) *output = text;
  return WIFEXITED(status) ? WEXITSTATUS(status) : 128;
}

}  // namespace zerodown::testing
