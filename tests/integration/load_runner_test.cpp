// The load runner on a real server: the TPC-B-like workload commits, a workload that starts
// failing is counted by SQLSTATE while the run goes on, and clients whose connections are killed
// count the failure, reconnect and carry on.
#include <gtest/gtest.h>

#include <algorithm>
#include <chrono>
#include <thread>

#include "support/database.hpp"
#include "zerodown/load/runner.hpp"

namespace zerodown::load {
namespace {

using testing::Connect;
using testing::FreshDatabase;

// pgbench's four tables at scale 1, made by hand so the test needs no pgbench binary.
std::string PgbenchLikeDatabase() {
  std::string conninfo = FreshDatabase();
  auto conn = Connect(conninfo);
  conn.Run(
      "CREATE TABLE pgbench_branches (bid int PRIMARY KEY, bbalance int, filler char(88));"
      "CREATE TABLE pgbench_tellers (tid int PRIMARY KEY, bid int, tbalance int, filler char(84));"
      "CREATE TABLE pgbench_accounts (aid int PRIMARY KEY, bid int, abalance int, "
      "  filler char(84));"
      "CREATE TABLE pgbench_history (tid int, bid int, aid int, delta int, mtime timestamp, "
      "  filler char(22));"
      "INSERT INTO pgbench_branches VALUES (1, 0);"
      "INSERT INTO pgbench_tellers SELECT t, 1, 0 FROM generate_series(1, 10) t;"
      "INSERT INTO pgbench_accounts SELECT a, 1, 0 FROM generate_series(1, 100000) a;");
  return conninfo;
}

// Committed tpcb transactions each add one history row, failed ones none.
std::uint64_t HistoryRows(const std::string& conninfo) {
  auto rows = Connect(conninfo).Exec("SELECT count(*) FROM pgbench_history");
  return static_cast<std::uint64_t>(rows.Int(0, 0));
}

void Sleep(double seconds) { std::this_thread::sleep_for(std::chrono::duration<double>(seconds)); }

// Four clients on a fresh pgbench-like database, running until stopped.
LoadOptions FourClients() {
  LoadOptions options;
  options.conninfo = PgbenchLikeDatabase();
  options.clients = 4;
  return options;
}

TEST(LoadRunnerTest, TpcbWorkloadCommitsWithoutErrors) {
  LoadOptions options;
  options.conninfo = PgbenchLikeDatabase();
  options.clients = 4;
  options.duration_s = 2;
  LoadRunner runner(options);
  ASSERT_TRUE(runner.Start().ok());
  runner.Wait();
  auto report = runner.Report().value();
  EXPECT_GT(report.total.transactions, 0u);
  EXPECT_EQ(report.total.failed, 0u);
  EXPECT_GE(report.timeline.size(), 2u);
  EXPECT_NEAR(report.total.duration_s(), 2, 0.5);
  EXPECT_GT(report.total.p50_ms, 0);
  EXPECT_EQ(report.workload, "tpcb");
  EXPECT_EQ(HistoryRows(options.conninfo), report.total.transactions);
}

TEST(LoadRunnerTest, FailuresAreCountedBySqlstateAndTheRunGoesOn) {
  LoadOptions options = FourClients();
  LoadRunner runner(options);
  ASSERT_TRUE(runner.Start().ok());
  auto admin = Connect(options.conninfo);
  Sleep(1);

  // From now on, updates of even accounts fail with check_violation (SQLSTATE 23514).
  runner.MarkPhase("break");
  admin.Run(
      "CREATE FUNCTION refuse() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN "
      "  RAISE EXCEPTION 'even account' USING ERRCODE = 'check_violation'; END $$;"
      "CREATE TRIGGER refuse BEFORE UPDATE ON pgbench_accounts FOR EACH ROW "
      "  WHEN (NEW.aid % 2 = 0) EXECUTE FUNCTION refuse();");
  Sleep(1.5);
  admin.Run("DROP TRIGGER refuse ON pgbench_accounts;");
  runner.MarkPhase("heal");
  Sleep(1);
  runner.Stop();

  auto report = runner.Report().value();
  // Windows count a transaction in the phase it began in: one that began just before the
  // "break" mark reaches its UPDATE after the trigger exists when the machine stalls it in
  // between (at most one per client).
  EXPECT_LE(report.before.failed, static_cast<std::uint64_t>(options.clients));
  for (const auto& [sqlstate, count] : report.before.errors) EXPECT_EQ(sqlstate, "23514");
  EXPECT_GT(report.during.failed, 0u);
  EXPECT_EQ(report.during.errors.at("23514"), report.during.failed);
  EXPECT_GT(report.during.transactions, 0u) << "odd accounts kept committing";
  EXPECT_EQ(report.after.failed, 0u);
  EXPECT_GT(report.after.transactions, 0u);
  std::uint64_t per_second_failed = 0;
  for (const auto& second : report.timeline) per_second_failed += second.failed;
  EXPECT_EQ(per_second_failed, report.total.failed);
  EXPECT_EQ(HistoryRows(options.conninfo), report.total.transactions) << "failures rolled back";
}

TEST(LoadRunnerTest, KilledConnectionsAreCountedAndClientsReconnect) {
  LoadOptions options = FourClients();
  options.application_name = "load-kill-test";
  LoadRunner runner(options);
  ASSERT_TRUE(runner.Start().ok());
  auto admin = Connect(options.conninfo);
  Sleep(1);
  runner.MarkPhase("kill");
  auto killed = admin.Exec(
      "SELECT count(*) FILTER (WHERE pg_terminate_backend(pid)) FROM pg_stat_activity "
      "WHERE application_name = 'load-kill-test'");
  EXPECT_EQ(killed.Int(0, 0), 4);
  Sleep(0.5);
  runner.MarkPhase("recovered");
  Sleep(1);
  runner.Stop();

  auto report = runner.Report().value();
  // Windows count a transaction in the phase it started in: one that began just before the
  // "kill" mark and died with its backend belongs to "before", so count over the whole run.
  EXPECT_GT(report.total.failed, 0u);
  EXPECT_LE(report.total.failed, 4u) << "one failed transaction per killed connection";
  for (const auto& [sqlstate, count] : report.total.errors)
    EXPECT_TRUE(sqlstate == "57P01" || sqlstate == "08006") << sqlstate;
  EXPECT_GT(report.after.transactions, 0u);
  EXPECT_EQ(report.after.failed, 0u);
}

TEST(LoadRunnerTest, TheSlowestTransactionsNameWhenTheyBeganAndTheStatementThatWaited) {
  LoadOptions options = FourClients();
  LoadRunner runner(options);
  ASSERT_TRUE(runner.Start().ok());
  auto admin = Connect(options.conninfo);
  Sleep(1);
  // Every client's UPDATE of pgbench_accounts queues behind this lock for about 400 ms.
  admin.Run("BEGIN");
  admin.Run("LOCK TABLE pgbench_accounts IN ACCESS EXCLUSIVE MODE");
  runner.MarkPhase("locked");
  Sleep(0.4);
  admin.Run("COMMIT");
  runner.MarkPhase("unlocked");
  Sleep(1);
  runner.Stop();

  auto report = runner.Report().value();
  ASSERT_EQ(report.slowest.size(), kSlowestKept);
  for (std::size_t i = 1; i < report.slowest.size(); ++i)
    EXPECT_GE(report.slowest[i - 1].ms, report.slowest[i].ms) << "slowest first";
  std::string lines = RenderSlowest({report});
  // A client queued behind the lock, begun before it was released, is among the slowest kept;
  // not always first: a stall of a busy machine's disk can hold one commit longer.
  auto queued =
      std::find_if(report.slowest.begin(), report.slowest.end(), [&](const SlowTransaction& t) {
        return t.statement.rfind("UPDATE pgbench_accounts", 0) == 0 &&
               t.began_s < report.phases.at(1).at_s;
      });
  ASSERT_NE(queued, report.slowest.end()) << lines;
  EXPECT_GE(queued->ms, 300);
  EXPECT_GE(queued->statement_ms, 300);
  EXPECT_LE(queued->statement_ms, queued->ms);
  EXPECT_TRUE(queued->sqlstate.empty());
  EXPECT_GT(queued->began_s, 0.5);
  EXPECT_NE(lines.find("UPDATE pgbench_accounts"), std::string::npos) << lines;
}

TEST(LoadRunnerTest, WeightedUserScriptsRunAtTheRequestedRate) {
  std::string conninfo = PgbenchLikeDatabase();
  LoadOptions options;
  options.conninfo = conninfo;
  options.clients = 2;
  options.rate = 100;
  options.duration_s = 2;
  options.scripts = {{"read",
                      "\\set aid random(1, 100000)\nSELECT abalance FROM pgbench_accounts "
                      "WHERE aid = :aid;",
                      3},
                     {"write",
                      "\\set aid random(1, 100000)\nUPDATE pgbench_accounts SET "
                      "abalance = abalance + 1 WHERE aid = :aid;",
                      1}};
  LoadRunner runner(options);
  ASSERT_TRUE(runner.Start().ok());
  runner.Wait();
  auto report = runner.Report().value();
  EXPECT_EQ(report.total.failed, 0u);
  // Poisson arrivals at 100/s for 2 s: about 200, far from the open-loop thousands.
  EXPECT_GT(report.total.transactions, 120u);
  EXPECT_LT(report.total.transactions, 300u);
  auto writes = Connect(conninfo).Exec("SELECT sum(abalance) FROM pgbench_accounts");
  EXPECT_GT(writes.Int(0, 0), 0);
  EXPECT_LT(static_cast<std::uint64_t>(writes.Int(0, 0)), report.total.transactions);
}

TEST(LoadRunnerTest, MissingPgbenchTablesNameTheFix) {
  LoadOptions options;
  options.conninfo = FreshDatabase();
  options.clients = 1;
  LoadRunner runner(options);
  Status started = runner.Start();
  ASSERT_FALSE(started.ok());
  EXPECT_EQ(started.error().kind(), ErrorKind::kNotFound);
  EXPECT_NE(started.error().fix().find("--init"), std::string::npos);
}

}  // namespace
}  // namespace zerodown::load
