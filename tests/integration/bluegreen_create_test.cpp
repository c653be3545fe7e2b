// Promise: `zerodown bluegreen create` refuses, before it changes anything, what logical
// replication cannot carry (naming each table and the fix), copies blue's schema and rows to
// green while blue takes writes, `status` reports copy progress, lag and guardrails, a switch
// refuses on DDL made on blue since, and `finish`/`abort` leave no publication, subscription,
// slot or state on either side.
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>
#include <thread>

#include "support/database.hpp"
#include "support/green_cluster.hpp"
#include "support/http.hpp"
#include "support/proxy.hpp"
#include "support/writers.hpp"

namespace zerodown::testing {
namespace {

using namespace std::chrono_literals;

// Polls `status --json` until every table finished its initial copy; returns the last report.
nlohmann::json WaitReady(const std::string& blue, const std::string& green) {
  nlohmann::json status;
  for (int i = 0; i < 120; ++i) {
    std::string out;
    if (RunZerodown("--json " + BlueGreen("status", blue, green), &out) == 0) {
      status = nlohmann::json::parse(out.substr(0, out.find('\n')));
      // Ready once every table copied and the lag, measured right after a copy on a busy
      // machine, has come down; a long transaction of the test's own may stay open.
      bool settled =
          status["tables_total"].get<int>() > 0 && status["tables_ready"] == status["tables_total"];
      for (const auto& g : status["guardrails"]) {
        if (g["name"] != "long transaction" && !g["ok"].get<bool>()) settled = false;
      }
      if (settled) return status;
    }
    std::this_thread::sleep_for(500ms);
  }
  ADD_FAILURE() << "the pair did not settle: " << status.dump();
  return status;
}

std::int64_t Count(const std::string& conninfo, const std::string& sql) {
  return Connect(conninfo).Exec(sql).Int(0, 0);
}

TEST(BlueGreenCreate, RefusesWhatReplicationCannotCarryBeforeChangingAnything) {
  std::string blue = FreshDatabase();
  std::string green = FreshGreenDatabase(blue);
  Connect(blue).Run(
      "CREATE TABLE keyed (id int PRIMARY KEY);"
      "CREATE TABLE no_key (a int, b text);"
      "CREATE UNLOGGED TABLE scratch (id int PRIMARY KEY);"
      "SELECT lo_create(0);");
  std::string out;
  EXPECT_EQ(RunZerodown(BlueGreen("create", blue, green), &out), 2) << out;
  EXPECT_NE(out.find("\"public\".\"no_key\" has no primary key"), std::string::npos) << out;
  EXPECT_NE(out.find("REPLICA IDENTITY USING INDEX"), std::string::npos) << out;
  EXPECT_NE(out.find("\"public\".\"scratch\" is UNLOGGED"), std::string::npos) << out;
  EXPECT_NE(out.find("SET LOGGED"), std::string::npos) << out;
  EXPECT_NE(out.find("large objects"), std::string::npos) << out;
  EXPECT_EQ(out.find("keyed"), std::string::npos) << out;
  // Nothing changed on either side.
  EXPECT_EQ(ReplicationLeftovers(blue), 0);
  EXPECT_EQ(ReplicationLeftovers(green), 0);
  EXPECT_EQ(Count(green, "SELECT count(*) FROM pg_tables WHERE schemaname = 'public'"), 0);
  EXPECT_EQ(Count(blue, "SELECT count(*) FROM pg_namespace WHERE nspname = 'zerodown'"), 0);
}

TEST(BlueGreenCreate, RefusesAGreenThatHoldsTables) {
  std::string blue = FreshDatabase();
  std::string green = FreshGreenDatabase(blue);
  Connect(blue).Run("CREATE TABLE t (id int PRIMARY KEY)");
  Connect(green).Run("CREATE TABLE other (id int PRIMARY KEY)");
  std::string out;
  EXPECT_NE(RunZerodown(BlueGreen("create", blue, green), &out), 0);
  EXPECT_NE(out.find("green already holds tables"), std::string::npos) << out;
  EXPECT_EQ(ReplicationLeftovers(blue), 0);
}

TEST(BlueGreenCreate, CopiesSchemaAndRowsUnderWritesAndFinishLeavesNothing) {
  std::string blue = FreshDatabase();
  std::string green = FreshGreenDatabase(blue);
  Connect(blue).Run(
      "CREATE TABLE accounts (id bigserial PRIMARY KEY, balance int NOT NULL DEFAULT 0);"
      "CREATE INDEX accounts_balance ON accounts (balance);"
      "CREATE TABLE audit (n int NOT NULL, note text);"
      "CREATE UNIQUE INDEX audit_n ON audit (n);"
      "ALTER TABLE audit REPLICA IDENTITY USING INDEX audit_n;"
      "INSERT INTO accounts (balance) SELECT g FROM generate_series(1, 20000) g;"
      "INSERT INTO audit SELECT g, 'x' FROM generate_series(1, 100) g;");
  Writers writers(blue, 2, [](pg::Connection& conn, int, std::uint64_t) {
    conn.Exec("INSERT INTO accounts (balance) VALUES (1)");
    conn.Exec("UPDATE accounts SET balance = balance + 1 WHERE id = 1 + (random() * 100)::int");
  });
  std::string out;
  ASSERT_EQ(RunZerodown(BlueGreen("create", blue, green), &out), 0) << out;
  nlohmann::json status = WaitReady(blue, green);
  EXPECT_EQ(status["serving"], "blue");
  EXPECT_EQ(status["tables_total"], 3);  // accounts, audit and the heartbeat
  ASSERT_TRUE(status["lag_seconds"].is_number()) << status.dump();
  EXPECT_LT(status["lag_seconds"].get<double>(), 1.0) << status.dump();
  for (const auto& g : status["guardrails"]) {
    if (g["name"] != "long transaction") {
      EXPECT_TRUE(g["ok"].get<bool>()) << g.dump();
    }
  }
  writers.Stop();
  EXPECT_EQ(writers.failed, 0) << writers.last_error();
  // Every row, the updates made during the copy included, is on green once it caught up.
  const std::string sums = "SELECT count(*) * 1000000 + sum(balance) FROM accounts";
  for (int i = 0; i < 100 && Count(green, sums) != Count(blue, sums); ++i) {
    std::this_thread::sleep_for(100ms);
  }
  EXPECT_EQ(Count(green, sums), Count(blue, sums));
  EXPECT_EQ(Count(green, "SELECT count(*) FROM audit"), 100);

  ASSERT_EQ(RunZerodown(BlueGreen("finish", blue, green), &out), 0) << out;
  EXPECT_EQ(ReplicationLeftovers(blue), 0);
  EXPECT_EQ(ReplicationLeftovers(green), 0);
  EXPECT_EQ(SchemaDump(green), SchemaDump(blue));
  // Blue still serves and takes writes.
  Connect(blue).Exec("INSERT INTO accounts (balance) VALUES (7)");
}

// Table t (id, v) on blue, the pair created and settled.
void CreatePairOfOneTable(const std::string& blue, const std::string& green) {
  Connect(blue).Run("CREATE TABLE t (id int PRIMARY KEY, v int)");
  std::string out;
  ASSERT_EQ(RunZerodown(BlueGreen("create", blue, green), &out), 0) << out;
  WaitReady(blue, green);
}

TEST(BlueGreenCreate, SwitchRefusesDdlMadeOnBlueAndAbortLeavesNothing) {
  std::string blue = FreshDatabase();
  std::string green = FreshGreenDatabase(blue);
  ASSERT_NO_FATAL_FAILURE(CreatePairOfOneTable(blue, green));
  std::string out;
  Connect(blue).Run("ALTER TABLE t ADD COLUMN w int");
  EXPECT_EQ(RunZerodown(BlueGreen("switch", blue, green), &out), ExitCode(ErrorKind::kConflict))
      << out;
  EXPECT_NE(out.find("schema: blue's schema changed"), std::string::npos) << out;
  // Refused before anything changed: blue takes writes, green still replicates.
  Connect(blue).Exec("INSERT INTO t VALUES (1, 1, 1)");
  ASSERT_EQ(RunZerodown(BlueGreen("abort", blue, green), &out), 0) << out;
  EXPECT_EQ(ReplicationLeftovers(blue), 0);
  EXPECT_EQ(ReplicationLeftovers(green), 0);
  EXPECT_EQ(Count(blue, "SELECT count(*) FROM pg_proc WHERE proname = 'bluegreen_fence'"), 0);
}

// Polls the scrape of `port` until it holds `line`; returns the last scrape.
std::string ScrapeUntil(int port, const std::string& line) {
  std::string body;
  for (int i = 0; i < 100 && body.find(line) == std::string::npos; ++i) {
    std::this_thread::sleep_for(200ms);
    body = HttpGet(port, "/metrics");
  }
  return body;
}

TEST(BlueGreenCreate, StatusWatchServesThePairsMetrics) {
  std::string blue = FreshDatabase();
  std::string green = FreshGreenDatabase(blue);
  ASSERT_NO_FATAL_FAILURE(CreatePairOfOneTable(blue, green));
  int port = FreePort();
  auto watch = load::ChildProcess::Start(
                   {ZERODOWN_BINARY, "--postgres-url", blue, "bluegreen", "status", "--green",
                    green, "--watch", "--metrics-addr", "127.0.0.1:" + std::to_string(port)},
                   {}, nullptr, nullptr)
                   .ValueOrThrow();
  std::string body = ScrapeUntil(port, "zerodown_bluegreen_tables_ready 2");
  for (const char* line :
       {"zerodown_bluegreen_tables_ready 2", "zerodown_bluegreen_tables 2",
        "zerodown_bluegreen_serving{side=\"blue\"} 1", "zerodown_bluegreen_switching 0",
        "zerodown_bluegreen_guardrail_ok{guardrail=\"schema\"} 1"}) {
    EXPECT_NE(body.find(line), std::string::npos) << line << "\n" << body;
  }
  EXPECT_NE(body.find("zerodown_bluegreen_lag_seconds 0"), std::string::npos) << body;
  // The gauges follow the pair: DDL on blue turns the schema guardrail off at the next look.
  Connect(blue).Run("ALTER TABLE t ADD COLUMN w int");
  body = ScrapeUntil(port, "zerodown_bluegreen_guardrail_ok{guardrail=\"schema\"} 0");
  EXPECT_NE(body.find("zerodown_bluegreen_guardrail_ok{guardrail=\"schema\"} 0"), std::string::npos)
      << body;
  watch.reset();
  std::string out;
  ASSERT_EQ(RunZerodown(BlueGreen("abort", blue, green), &out), 0) << out;
}

TEST(BlueGreenCreate, SwitchWaitsOutALongTransactionOrRefusesWithoutWaiting) {
  std::string blue = FreshDatabase();
  std::string green = FreshGreenDatabase(blue);
  ASSERT_NO_FATAL_FAILURE(CreatePairOfOneTable(blue, green));
  std::string out;
  pg::Connection open = Connect(blue);
  open.Run("BEGIN; INSERT INTO t VALUES (1, 1)");
  std::this_thread::sleep_for(1500ms);
  // Refused at once when told not to wait, with nothing changed.
  EXPECT_EQ(RunZerodown(BlueGreen("switch", blue, green) +
                            " --max-transaction-age 1 --guardrail-wait 0 --step-timeout 5",
                        &out),
            ExitCode(ErrorKind::kConflict))
      << out;
  EXPECT_NE(out.find("long transaction: open longer than 1 s"), std::string::npos) << out;
  // Waited out: the transaction commits 2 s into the switch, which then goes through.
  std::thread commit([&open] {
    std::this_thread::sleep_for(2s);
    open.Run("COMMIT");
  });
  int code = RunZerodown(
      BlueGreen("switch", blue, green) + " --max-transaction-age 1 --step-timeout 5", &out);
  commit.join();
  EXPECT_EQ(code, 0) << out;
  EXPECT_NE(out.find("waiting for the guardrails"), std::string::npos) << out;
  EXPECT_EQ(Count(green, "SELECT count(*) FROM t"), 1);
  ASSERT_EQ(RunZerodown(BlueGreen("finish", blue, green), &out), 0) << out;
}

}  // namespace
}  // namespace zerodown::testing
