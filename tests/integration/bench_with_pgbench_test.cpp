// `zerodown bench --client pgbench` measures a command under PostgreSQL's own client: pgbench
// runs at the asked rate, its per-transaction logs land in the report's windows on the same
// clock as the command's phase marks, and a pgbench that cannot start is a clear error.
#include <gtest/gtest.h>

#include <cstdlib>
#include <nlohmann/json.hpp>
#include <sstream>

#include "support/database.hpp"

namespace zerodown {
namespace {

using testing::Quoted;
using testing::RunZerodown;
using testing::SharedCluster;

std::string PgBinDirEnv() { return "ZERODOWN_PG_BINDIR=" + Quoted(SharedCluster().bindir()); }

// The report `bench --json` printed among the lines it and its command wrote to stderr: from
// the line "{" to the line "}".
nlohmann::json ReportIn(const std::string& output) {
  std::istringstream in(output);
  std::string line, json;
  bool inside = false;
  while (std::getline(in, line)) {
    if (line == "{") inside = true;
    if (inside) json += line + "\n";
    if (inside && line == "}") break;
  }
  return nlohmann::json::parse(json);
}

TEST(BenchWithPgbench, MeasuresTheReferenceClientAroundACommand) {
  std::string db = testing::FreshDatabase();
  std::string init =
      SharedCluster().bindir() + "/pgbench -i -q -s 1 " + Quoted(db) + " >/dev/null 2>&1";
  ASSERT_EQ(std::system(init.c_str()), 0);
  std::string out;
  int rc = RunZerodown("--postgres-url " + Quoted(db) +
                           " --json bench --client pgbench -c 2 -j 1 --rate 100 --warmup 2 "
                           "--cooldown 2 -q -- sh -c 'echo \"phase: middle\"; sleep 2'",
                       &out, PgBinDirEnv());
  ASSERT_EQ(rc, 0) << out;
  nlohmann::json report = ReportIn(out);
  ASSERT_TRUE(report["has_change"].get<bool>()) << out;
  std::vector<std::string> phases;
  for (const auto& phase : report["phases"]) phases.push_back(phase["name"]);
  EXPECT_EQ(phases, (std::vector<std::string>{"start", "middle", "end"}));
  const auto& during = report["windows"]["during"];
  EXPECT_NEAR(during["seconds"].get<double>(), 2.0, 1.0);
  // 100 transactions a second, offered by pgbench's schedule, done by an idle server.
  double rate = during["transactions"].get<double>() / during["seconds"].get<double>();
  EXPECT_NEAR(rate, 100, 30) << out;
  EXPECT_EQ(during["failed"].get<int>(), 0);
  EXPECT_GT(report["windows"]["before"]["transactions"].get<int>(), 100);
  EXPECT_GT(report["windows"]["after"]["transactions"].get<int>(), 100);
  EXPECT_GE(report["timeline"].size(), 5u);
}

TEST(BenchWithPgbench, APgbenchThatCannotConnectIsAClearError) {
  std::string db = testing::FreshDatabase();
  std::string missing = db;
  missing.replace(missing.find("dbname=") + 7, 0, "missing_");
  std::string out;
  int rc = RunZerodown("--postgres-url " + Quoted(missing) +
                           " bench --client pgbench -c 2 --warmup 0 --cooldown 0 -q -- true",
                       &out, PgBinDirEnv());
  EXPECT_NE(rc, 0);
  EXPECT_NE(out.find("pgbench did not start its clients"), std::string::npos) << out;
  EXPECT_NE(out.find("Check the database URL"), std::string::npos) << out;
}

}  // namespace
}  // namespace zerodown
