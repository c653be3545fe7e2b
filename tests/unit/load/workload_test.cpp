// Script parsing: pgbench's built-in script parses, variables become parameters, casts stay
// casts, and mistakes are usage errors that name the script and line.
#include "zerodown/load/workload.hpp"

#include <gtest/gtest.h>

namespace zerodown::load {
namespace {

TEST(WorkloadTest, BuiltInTpcbParsesIntoSetsAndSixStatements) {
  auto script = ParseScript({"tpcb", std::string(kTpcbScript), 1}).value();
  int sets = 0, statements = 0;
  for (const auto& command : script.commands) (command.is_set ? sets : statements)++;
  EXPECT_EQ(sets, 4);
  EXPECT_EQ(statements, 7);  // BEGIN, 3 updates, select, insert, END
  const auto& update = script.commands[5].sql;
  EXPECT_EQ(update.sql, "UPDATE pgbench_accounts SET abalance = abalance + $1 WHERE aid = $2");
  EXPECT_EQ(update.parameters, (std::vector<std::string>{"delta", "aid"}));
}

TEST(WorkloadTest, RandomStaysInRangeAndProductsUseScale) {
  auto script = ParseScript({"s", "\\set n random(1, 10 * :scale)\nSELECT :n;", 1}).value();
  Variables variables(3, 0);
  std::mt19937_64 rng(1);
  for (int i = 0; i < 1000; ++i) {
    ApplySet(script.commands[0].set, variables, rng);
    ASSERT_GE(variables.Get("n"), 1);
    ASSERT_LE(variables.Get("n"), 30);
  }
}

TEST(WorkloadTest, CastsQuotesAndMultiLineStatements) {
  auto script = ParseScript({"s",
                             "\\set id 7\n"
                             "SELECT ':id', :id::bigint,\n"
                             "  now()::text; SELECT 1;\n",
                             1})
                    .value();
  ASSERT_EQ(script.commands.size(), 3u);
  EXPECT_EQ(script.commands[1].sql.sql, "SELECT ':id', $1::bigint,\n  now()::text");
  EXPECT_EQ(script.commands[2].sql.sql, "SELECT 1");
}

TEST(WorkloadTest, MistakesNameTheScriptAndLine) {
  auto unknown = ParseScript({"reads.sql", "SELECT 1;\nSELECT :nope;\n", 1});
  ASSERT_FALSE(unknown.ok());
  EXPECT_EQ(unknown.error().kind(), ErrorKind::kUsage);
  EXPECT_EQ(unknown.error().where(), "reads.sql, line 2");
  EXPECT_FALSE(ParseScript({"s", "\\sleep 10\n", 1}).ok());
  EXPECT_FALSE(ParseScript({"s", "\\set x random(1)\n", 1}).ok());
  EXPECT_FALSE(ParseScript({"s", "\\set x abc\n", 1}).ok());
  EXPECT_FALSE(ParseScript({"s", "-- nothing\n", 1}).ok());
}

TEST(WorkloadTest, ScriptSpecParsesWeight) {
  EXPECT_EQ(ReadScriptSpec("/nonexistent.sql@3").error().kind(), ErrorKind::kUsage);
  EXPECT_FALSE(ReadScriptSpec("/dev/null@0").ok());
  auto spec = ReadScriptSpec("/dev/null@4").value();
  EXPECT_EQ(spec.weight, 4);
  EXPECT_EQ(spec.name, "/dev/null");
}

}  // namespace
}  // namespace zerodown::load
