// Automatic rollback on a real server: an alter_column migration runs its backfill under a
// workload; then a share of the workload's transactions starts failing (a trigger raises for
// every fourth row). The health monitor sees the error rate climb past 5%, the policy trips, the
// backfill's before-batch hook stops the migration and the engine rolls it back: within 10 s of
// the first failure, with every row and value intact, and the reason named. The --on-alert
// command runs on the way. And the other way round: zerodown's own transactions, some rolled back
// on purpose, never read as the application's errors.
#include <gtest/gtest.h>
#include <unistd.h>

#include <atomic>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <thread>

#include "support/database.hpp"
#include "zerodown/engine/engine.hpp"
#include "zerodown/model/migration_reader.hpp"
#include "zerodown/monitor/health.hpp"
#include "zerodown/pg/catalog.hpp"

namespace zerodown::monitor {
namespace {

using namespace std::chrono_literals;
using Clock = std::chrono::steady_clock;

constexpr int kRows = 100000;

constexpr const char* kMigration = R"({
  "name": "balance_bigint",
  "operations": [{"alter_column": {"table": "accounts", "column": "balance", "type": "bigint",
                                   "up": "balance", "down": "balance::integer"}}]
})";

TEST(MonitorHealth, FailingWorkloadRollsTheMigrationBackWithin10s) {
  std::string db = testing::FreshDatabase();
  pg::Connection admin = testing::Connect(db);
  admin.Run(
      "CREATE TABLE accounts (id int PRIMARY KEY, balance int NOT NULL, note text);"
      "INSERT INTO accounts SELECT g, g % 1000, 'n' FROM generate_series(1, " +
      std::to_string(kRows) + ") g; ANALYZE accounts;");
  std::int64_t sum_before = admin.Exec("SELECT sum(balance) FROM accounts").Int(0, 0);
  engine::State(admin).Init();

  std::string alert_file = ::testing::TempDir() + "zerodown_alert_" + std::to_string(getpid());
  std::filesystem::remove(alert_file);
  HealthOptions options;
  options.auto_rollback = true;
  options.interval = 500ms;
  options.window = 2000ms;
  // This test is about the error rate; probe latency on 2 busy cores says little.
  options.thresholds.alert_latency_ratio = 0;
  options.thresholds.rollback_latency_ratio = 0;
  options.on_alert = "echo \"$ZERODOWN_HEALTH_STATE $ZERODOWN_HEALTH_MESSAGE\" >> " + alert_file;
  HealthMonitor health(db, options);
  health.Start();

  std::atomic<bool> stop{false};
  std::atomic<int> ok{0}, failed{0};
  std::vector<std::thread> clients;
  for (int i = 0; i < 4; ++i) {
    clients.emplace_back([&, i] {
      pg::Connection conn = pg::Connection::Open(db, "app");
      conn.CountAsApplication();
      std::uint64_t n = 0;
      while (!stop) {
        std::string id = std::to_string(1 + (i * 7919 + n++ * 104729) % kRows);
        auto r = conn.TryExec("UPDATE accounts SET note = 'w' WHERE id = $1", {id});
        (r.ok() ? ok : failed)++;
        std::this_thread::sleep_for(2ms);
      }
    });
  }

  pg::Connection conn = testing::Connect(db);
  engine::EngineOptions engine_options;
  engine_options.lock.lock_timeout = 200ms;
  engine_options.backfill.max_batch = 200;
  // The in-place backfill: small batches keep the pass long enough to fail half-way.
  engine_options.mechanism = engine::Mechanism::kInPlace;
  engine_options.backfill.before_batch = [&health] {
    std::this_thread::sleep_for(30ms);  // keeps the pass long enough to be interrupted
    std::string why;
    if (health.ShouldRollBack(&why)) {
      throw Error(ErrorKind::kMigrationFailed, "automatic rollback: " + why);
    }
  };
  SilentProgress silent;
  engine::Engine engine(conn, engine_options, silent);
  auto migration = model::ParseMigration(kMigration, model::Format::kJson, "m.json").ValueOrThrow();
  std::optional<Error> failure;
  Clock::time_point failed_at;
  std::thread runner([&] {
    try {
      engine.Start(migration);
    } catch (const Error& e) {
      failure = e;
    }
    failed_at = Clock::now();
  });

  std::this_thread::sleep_for(2500ms);
  EXPECT_FALSE(health.ShouldRollBack(nullptr)) << health.Latest().Summary();
  EXPECT_EQ(health.Latest().state, HealthState::kOk) << health.Latest().Summary();
  EXPECT_EQ(failed, 0);

  admin.Run(R"sql(
    CREATE FUNCTION fail_some() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN
      IF NEW.id % 4 = 0 AND current_setting('application_name') = 'app' THEN
        RAISE EXCEPTION 'injected failure for row %', NEW.id;
      END IF;
      RETURN NEW;
    END $$;
    CREATE TRIGGER fail_some BEFORE UPDATE ON accounts FOR EACH ROW EXECUTE FUNCTION fail_some();
  )sql");
  auto failing_since = Clock::now();
  runner.join();
  stop = true;
  for (auto& c : clients) c.join();
  health.Stop();

  ASSERT_TRUE(failure.has_value()) << "the migration finished despite the failing workload";
  EXPECT_EQ(failure->kind(), ErrorKind::kMigrationFailed);
  EXPECT_NE(failure->message().find("automatic rollback: error rate"), std::string::npos)
      << failure->Describe();
  auto took = failed_at - failing_since;
  EXPECT_LT(took, 10s) << std::chrono::duration<double>(took).count() << " s";
  EXPECT_GT(failed, 0);

  // Rolled back, nothing lost: the old table exactly, every row and value.
  auto status = engine.Status();
  EXPECT_FALSE(status.active.has_value());
  auto table = pg::DescribeTable(admin, "public", "accounts");
  ASSERT_TRUE(table.has_value());
  std::vector<std::string> columns;
  for (const auto& c : table->columns) columns.push_back(c.name);
  EXPECT_EQ(columns, (std::vector<std::string>{"id", "balance", "note"}));
  EXPECT_EQ(table->FindColumn("balance")->type, "integer");
  EXPECT_EQ(admin.Exec("SELECT count(*) FROM accounts").Int(0, 0), kRows);
  EXPECT_EQ(admin.Exec("SELECT sum(balance) FROM accounts").Int(0, 0), sum_before);

  std::ifstream in(alert_file);
  std::stringstream text;
  text << in.rdbuf();
  EXPECT_NE(text.str().find("error rate"), std::string::npos) << text.str();
  std::filesystem::remove(alert_file);
}

// Rolled back transactions of the database, once pg_stat_database shows at least `at_least`.
std::int64_t RollbacksOnceCounted(const std::string& db, std::int64_t at_least) {
  pg::Connection look = testing::Connect(db);
  std::int64_t rollbacks = 0;
  for (int i = 0; i < 100 && rollbacks < at_least; ++i) {
    if (i > 0) std::this_thread::sleep_for(100ms);
    rollbacks = look.Exec(
                        "SELECT xact_rollback FROM pg_stat_database WHERE datname = "
                        "current_database()")
                    .Int(0, 0);
  }
  return rollbacks;
}

// pg_stat_database counts zerodown's own transactions with the application's: a plan checks
// each expression in a transaction it rolls back on purpose. On a quiet database those read as
// the application's errors and tripped --auto-rollback. The monitor takes away what this
// process's own sessions ended, and still sees the application's.
TEST(MonitorHealth, ZerodownsOwnRollbacksAreNotTheApplicationsErrors) {
  std::string db = testing::FreshDatabase();
  HealthOptions options;
  options.auto_rollback = true;
  options.window = 60s;  // every sample below falls in one window
  options.thresholds.alert_latency_ratio = 0;
  options.thresholds.rollback_latency_ratio = 0;
  HealthMonitor health(db, options);
  health.SampleOnce();
  std::int64_t before = RollbacksOnceCounted(db, 0);
  {
    pg::Connection own = pg::Connection::Open(db);  // zerodown's own session
    for (int i = 0; i < 10; ++i) {
      pg::Transaction check(own);
      own.Exec("SELECT 1");
    }  // each rolled back
  }
  {
    pg::Connection app = testing::Connect(db);
    for (int i = 0; i < 40; ++i) app.Exec("SELECT 1");
  }
  ASSERT_GE(RollbacksOnceCounted(db, before + 10), before + 10);
  HealthVerdict verdict = health.SampleOnce();
  EXPECT_EQ(verdict.state, HealthState::kOk) << verdict.Summary();
  EXPECT_FALSE(health.ShouldRollBack(nullptr));

  {
    pg::Connection app = testing::Connect(db);
    for (int i = 0; i < 10; ++i) {
      pg::Transaction failing(app);
      app.Exec("SELECT 1");
    }
  }
  ASSERT_GE(RollbacksOnceCounted(db, before + 20), before + 20);
  verdict = health.SampleOnce();
  EXPECT_EQ(verdict.state, HealthState::kRollback) << verdict.Summary();
  EXPECT_NE(verdict.Summary().find("error rate"), std::string::npos) << verdict.Summary();
}

TEST(MonitorHealth, QuietDatabaseIsHealthy) {
  std::string db = testing::FreshDatabase();
  HealthOptions options;
  options.auto_rollback = true;
  // A probe on 2 shared cores swings by 10x; the latency policy is unit-tested.
  options.thresholds.alert_latency_ratio = 0;
  options.thresholds.rollback_latency_ratio = 0;
  HealthMonitor health(db, options);
  EXPECT_GT(health.baseline().count(), 0);
  health.SampleOnce();
  auto verdict = health.SampleOnce();
  EXPECT_EQ(verdict.state, HealthState::kOk) << verdict.Summary();
  EXPECT_FALSE(health.ShouldRollBack(nullptr));
  health.ReportConsistencyFailure("row count 10 vs 9");
  health.SampleOnce();
  std::string why;
  EXPECT_TRUE(health.ShouldRollBack(&why));
  EXPECT_EQ(why, "consistency check failed: row count 10 vs 9");
}

}  // namespace
}  // namespace zerodown::monitor
