// The promise every DDL step keeps: while zerodown waits for a lock that a long transaction
// holds, the application's queries queue behind zerodown's DDL for no longer than lock_timeout;
// and the DDL succeeds once the lock is free.
#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <thread>
#include <vector>

#include "support/database.hpp"
#include "zerodown/pg/catalog.hpp"
#include "zerodown/pg/lock_retry.hpp"

namespace zerodown::pg {
namespace {

using Clock = std::chrono::steady_clock;
using std::chrono::milliseconds;

TEST(LockTimeoutRetryTest, ApplicationNeverQueuesLongerThanTheTimeoutAndDdlLandsAfterwards) {
  std::string db = testing::FreshDatabase();
  Connection setup = testing::Connect(db);
  setup.Run(
      "CREATE TABLE accounts (id int PRIMARY KEY, balance int);"
      "INSERT INTO accounts SELECT g, 0 FROM generate_series(1, 1000) g;");

  // A long transaction holds a lock that conflicts with ALTER TABLE's ACCESS EXCLUSIVE.
  Connection holder = testing::Connect(db);
  holder.Exec("BEGIN");
  holder.Exec("SELECT count(*) FROM accounts");

  std::atomic<bool> stop{false};
  std::atomic<std::int64_t> worst_app_ms{0};
  std::atomic<int> app_queries{0};
  std::thread app([&] {
    Connection conn = testing::Connect(db);
    while (!stop) {
      auto begin = Clock::now();
      conn.Exec("UPDATE accounts SET balance = balance + 1 WHERE id = $1",
                {std::to_string(1 + app_queries % 1000)});
      auto took = std::chrono::duration_cast<milliseconds>(Clock::now() - begin).count();
      worst_app_ms = std::max<std::int64_t>(worst_app_ms, took);
      ++app_queries;
    }
  });

  LockRetryPolicy policy;
  policy.lock_timeout = milliseconds(100);
  policy.first_backoff = milliseconds(50);
  policy.max_backoff = milliseconds(200);
  std::atomic<int> retries{0};
  std::thread release([&] {
    std::this_thread::sleep_for(milliseconds(2000));
    holder.Exec("COMMIT");
  });
  Connection ddl = testing::Connect(db);
  auto begin = Clock::now();
  RunWithLockRetry(
      ddl, policy, "add column",
      [](Connection& c) { c.Exec("ALTER TABLE accounts ADD COLUMN note text"); },
      [&](int, milliseconds, const Error& error) {
        EXPECT_EQ(error.sqlstate(), kLockNotAvailable);
        ++retries;
      });
  auto ddl_ms = std::chrono::duration_cast<milliseconds>(Clock::now() - begin).count();
  release.join();
  std::this_thread::sleep_for(milliseconds(200));
  stop = true;
  app.join();

  EXPECT_GE(retries, 3) << "the DDL should have backed off while the holder was open";
  EXPECT_GE(ddl_ms, 1900) << "the DDL cannot have landed before the holder committed";
  EXPECT_GT(app_queries, 50) << "the application kept working while the DDL waited";
  // lock_timeout plus scheduling slack on a shared 2-core machine.
  EXPECT_LE(worst_app_ms, 100 + 150) << "an application query queued behind the DDL too long";
  auto table = DescribeTable(ddl, "public", "accounts");
  ASSERT_TRUE(table.has_value());
  EXPECT_NE(table->FindColumn("note"), nullptr);
}

// Creates table t and returns a session that holds a lock on it (ACCESS SHARE, in an open
// transaction) until it commits: a DROP waits for it.
Connection HoldTableT(const std::string& db) {
  Connection setup = testing::Connect(db);
  setup.Exec("CREATE TABLE t (id int)");
  Connection holder = testing::Connect(db);
  holder.Exec("BEGIN");
  holder.Exec("LOCK TABLE t IN ACCESS SHARE MODE");
  return holder;
}

// A policy that gives up on a held lock within a second.
LockRetryPolicy Quick(int attempts) {
  LockRetryPolicy policy;
  policy.lock_timeout = milliseconds(20);
  policy.max_attempts = attempts;
  policy.first_backoff = milliseconds(10);
  return policy;
}

TEST(LockTimeoutRetryTest, GivesUpWithALockTimeoutErrorThatNamesTheStep) {
  std::string db = testing::FreshDatabase();
  Connection holder = HoldTableT(db);
  LockRetryPolicy policy = Quick(3);
  Connection ddl = testing::Connect(db);
  try {
    RunWithLockRetry(ddl, policy, "drop table t", [](Connection& c) { c.Exec("DROP TABLE t"); });
    FAIL() << "expected a lock timeout";
  } catch (const Error& error) {
    EXPECT_EQ(error.kind(), ErrorKind::kLockTimeout);
    EXPECT_NE(error.message().find("drop table t"), std::string::npos);
    EXPECT_NE(error.fix().find("pg_stat_activity"), std::string::npos);
  }
  holder.Exec("COMMIT");
  EXPECT_TRUE(DescribeTable(ddl, "public", "t").has_value()) << "a failed attempt changed nothing";
}

TEST(LockTimeoutRetryTest, RunsTheHookBetweenAttemptsOutsideTheTransaction) {
  std::string db = testing::FreshDatabase();
  Connection holder = HoldTableT(db);
  LockRetryPolicy policy = Quick(10);
  Connection ddl = testing::Connect(db);
  std::vector<int> attempts;
  std::vector<int> between;
  RunWithLockRetry(
      ddl, policy, "drop table t",
      [&](Connection& c) {
        attempts.push_back(static_cast<int>(attempts.size()) + 1);
        c.Exec("DROP TABLE t");
      },
      {},
      [&](int next) {
        between.push_back(next);
        // Outside the attempt's transaction: what the hook does is not rolled back with it.
        EXPECT_EQ(PQtransactionStatus(ddl.raw()), PQTRANS_IDLE);
        if (next == 3) holder.Exec("COMMIT");
      });
  EXPECT_EQ(attempts, (std::vector<int>{1, 2, 3}));
  EXPECT_EQ(between, (std::vector<int>{2, 3}))
      << "the hook runs before every attempt but the first";
  EXPECT_FALSE(DescribeTable(ddl, "public", "t").has_value());
}

TEST(LockTimeoutRetryTest, RetriesABodyThatGivesUpItsAttemptLikeALockTimeout) {
  std::string db = testing::FreshDatabase();
  Connection conn = testing::Connect(db);
  LockRetryPolicy policy;
  policy.max_attempts = 3;
  policy.first_backoff = milliseconds(1);
  int calls = 0;
  try {
    RunWithLockRetry(conn, policy, "not yet", [&](Connection&) {
      ++calls;
      throw Error(ErrorKind::kLockTimeout, "not yet").WithSqlstate(std::string(kLockNotAvailable));
    });
    FAIL() << "expected a lock timeout";
  } catch (const Error& error) {
    EXPECT_EQ(error.kind(), ErrorKind::kLockTimeout);
  }
  EXPECT_EQ(calls, 3);
}

}  // namespace
}  // namespace zerodown::pg
