// `zerodown verify` on a real server: after `start` of an alter_column int -> bigint, every row
// is checked and found equal; a copy corrupted behind the trigger's back is found, with the key
// range holding it and the row itself; CompareTables finds the one row in which a table and its
// copy differ (and the row one side lacks); composite keys work; and verify blocks no writer:
// with four clients updating the table throughout, none waits on it.
#include "zerodown/verify/verify.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <nlohmann/json.hpp>
#include <sstream>
#include <thread>

#include "support/database.hpp"
#include "support/migrations.hpp"
#include "zerodown/engine/engine.hpp"

namespace zerodown::verify {
namespace {

using Clock = std::chrono::steady_clock;
using testing::RunZerodown;

constexpr const char* kBalanceBigint =
    R"({"alter_column": {"table": "accounts", "column": "balance", "type": "bigint",
                         "up": "balance", "down": "balance::integer"}})";

// accounts(id, balance = id % 1000, note) with `rows` rows, and zerodown's state schema.
std::string SetUpAccounts(int rows) {
  std::string db = testing::FreshDatabase();
  pg::Connection conn = testing::Connect(db);
  conn.Run(
      "CREATE TABLE accounts (id int PRIMARY KEY, balance int NOT NULL, note text);"
      "INSERT INTO accounts SELECT g, g % 1000, 'n' FROM generate_series(1, " +
      std::to_string(rows) + ") g; ANALYZE accounts;");
  engine::State(conn).Init();
  return db;
}

engine::MigrationRecord StartBalanceBigint(pg::Connection& conn) {
  SilentProgress progress;
  engine::Engine engine(conn, testing::FastEngineOptions(), progress);
  return engine.Start(testing::ParseOperations("balance_bigint", kBalanceBigint));
}

// Changes a row's copy as no application write can: with the sync trigger switched off for one
// transaction. (The trigger is ENABLE ALWAYS, so session_replication_role = replica does not.)
void CorruptCopy(const std::string& db, const std::string& sql) {
  pg::Connection conn = testing::Connect(db);
  auto always = conn.Exec(
      "SELECT tgname FROM pg_trigger WHERE tgrelid = 'accounts'::regclass AND NOT tgisinternal "
      "AND tgenabled = 'A'");
  conn.Run("BEGIN; ALTER TABLE accounts DISABLE TRIGGER USER");
  conn.Exec(sql);
  for (int i = 0; i < always.size(); ++i) {
    conn.Exec("ALTER TABLE accounts ENABLE ALWAYS TRIGGER " + conn.Ident(always.Text(i, 0)));
  }
  conn.Run("COMMIT");
}

// The last line of `output` that parses as a JSON object: the report (progress events come
// before it).
nlohmann::json LastJson(const std::string& output) {
  std::istringstream lines(output);
  nlohmann::json last;
  for (std::string line; std::getline(lines, line);) {
    auto j = nlohmann::json::parse(line, nullptr, false);
    if (j.is_object() && j.contains("checks")) last = j;
  }
  return last;
}

TEST(VerifyTest, ReportsEveryRowOfACleanMigrationAndRefusesWithoutOne) {
  constexpr int kRows = 20000;
  std::string db = SetUpAccounts(kRows);
  std::string url = "--postgres-url " + testing::Quoted(db);
  std::string out;
  EXPECT_EQ(RunZerodown(url + " verify", &out), 2) << out;
  EXPECT_NE(out.find("no migration in progress on schema \"public\" to verify"), std::string::npos)
      << out;
  EXPECT_NE(out.find("zerodown start FILE"), std::string::npos) << "the fix is named: " << out;

  pg::Connection conn = testing::Connect(db);
  auto record = StartBalanceBigint(conn);
  ASSERT_EQ(record.plan.checks.size(), 1u);

  ASSERT_EQ(RunZerodown(url + " verify --range-rows 3000", &out), 0) << out;
  EXPECT_NE(out.find("20000 rows checked in 7 ranges"), std::string::npos) << out;
  EXPECT_NE(out.find("verdict: OK, all 20000 rows match"), std::string::npos) << out;
  EXPECT_NE(out.find("rows/s"), std::string::npos) << out;

  ASSERT_EQ(RunZerodown(url + " --json verify", &out), 0) << out;
  nlohmann::json report = LastJson(out);
  ASSERT_TRUE(report.is_object()) << out;
  EXPECT_EQ(report["ok"], true);
  EXPECT_EQ(report["rows_checked"], kRows);
  EXPECT_EQ(report["rows_mismatched"], 0);
  EXPECT_EQ(report["checks"][0]["key_columns"], nlohmann::json::array({"id"}));
}

TEST(VerifyTest, NamesTheRangeAndTheRowOfACorruptedCopy) {
  std::string db = SetUpAccounts(20000);
  pg::Connection conn = testing::Connect(db);
  StartBalanceBigint(conn);
  CorruptCopy(db, "UPDATE accounts SET _zd_new_balance = -1 WHERE id = 12345");
  ASSERT_EQ(conn.Exec("SELECT balance FROM accounts WHERE id = 12345").Int(0, 0), 345)
      << "the trigger did not fire: only the copy changed";

  std::string out;
  EXPECT_EQ(
      RunZerodown("--postgres-url " + testing::Quoted(db) + " verify --range-rows 1000", &out), 1)
      << out;
  EXPECT_NE(out.find("mismatches: 1 row in 1 of 20 ranges"), std::string::npos) << out;
  EXPECT_NE(out.find("12000 < id <= 13000: 1 of 1000 rows differ"), std::string::npos) << out;
  EXPECT_NE(out.find("id 12345: expected 345, actual -1"), std::string::npos) << out;
  EXPECT_NE(out.find("verdict: MISMATCH"), std::string::npos) << out;
  EXPECT_NE(out.find("up(down(x)) != x"), std::string::npos) << "the lossy-down note: " << out;
  EXPECT_NE(out.find("1 of 20000 rows differ"), std::string::npos) << out;
}

TEST(VerifyTest, CompositeKeysWalkInRowOrder) {
  std::string db = testing::FreshDatabase();
  pg::Connection conn = testing::Connect(db);
  conn.Run(
      "CREATE TABLE accounts (region text, id int, balance int NOT NULL,"
      "                       PRIMARY KEY (region, id));"
      "INSERT INTO accounts SELECT r, g, g FROM unnest(ARRAY['eu', 'us', 'apac']) r,"
      "                                         generate_series(1, 100) g;");
  engine::State(conn).Init();
  auto record = StartBalanceBigint(conn);
  ASSERT_EQ(record.plan.checks.size(), 1u);
  const engine::ColumnCheck& check = record.plan.checks[0];
  ASSERT_EQ(check.key_columns, (std::vector<std::string>{"region", "id"}));
  CorruptCopy(db, "UPDATE accounts SET _zd_new_balance = -7 WHERE region = 'eu' AND id = 42");

  VerifyOptions options;
  options.range_rows = 7;
  int progress_calls = 0;
  options.on_progress = [&](const VerifyProgress&) { ++progress_calls; };
  VerifyReport report = CompareRows(
      conn, {check.description, check.schema, check.table, check.key_columns, check.select_sql},
      options);
  EXPECT_EQ(report.rows_checked, 300);
  EXPECT_EQ(report.ranges, 43) << "300 keys in ranges of 7";
  EXPECT_EQ(progress_calls, report.ranges);
  EXPECT_EQ(report.rows_mismatched, 1);
  ASSERT_EQ(report.first_mismatches.size(), 1u);
  const MismatchRange& range = report.first_mismatches[0];
  ASSERT_TRUE(range.range.low && range.range.high);
  ASSERT_EQ(range.samples.size(), 1u);
  EXPECT_EQ(range.samples[0].key, (std::vector<std::string>{"eu", "42"}));
  EXPECT_EQ(range.samples[0].expected, "42");
  EXPECT_EQ(range.samples[0].actual, "-7");
  std::vector<pg::Param> bounds = {(*range.range.low)[0], (*range.range.low)[1],
                                   (*range.range.high)[0], (*range.range.high)[1]};
  EXPECT_TRUE(conn.Exec("SELECT ('eu'::text, 42) > ($1::text, $2::int) AND "
                        "('eu'::text, 42) <= ($3::text, $4::int)",
                        bounds)
                  .Bool(0, 0))
      << "the reported range holds the key: " << FormatRange(report.key_columns, range.range);
}

TEST(VerifyTest, CompareTablesFindsTheRowsATableAndItsCopyDifferIn) {
  std::string db = testing::FreshDatabase();
  pg::Connection conn = testing::Connect(db);
  // The copy's key is integer where the original's is bigint, as after a rebuild the other
  // way: rows compare by their text.
  conn.Run(
      "CREATE TABLE orders (id bigint PRIMARY KEY, note text, amount numeric);"
      "INSERT INTO orders SELECT g, 'order ' || g, g * 1.5 FROM generate_series(1, 3000) g;"
      "CREATE TABLE orders_copy (id integer PRIMARY KEY, note text, amount numeric);"
      "INSERT INTO orders_copy SELECT * FROM orders;");
  VerifyOptions options;
  options.range_rows = 500;
  TableComparison tables{"public", "orders", "orders_copy", {"id"}, {}};
  VerifyReport same = CompareTables(conn, tables, options);
  EXPECT_TRUE(same.ok()) << Render(same);
  EXPECT_EQ(same.rows_checked, 3000);
  EXPECT_EQ(same.right_rows, 3000);
  EXPECT_EQ(same.ranges, 6);

  conn.Run(
      "UPDATE orders_copy SET note = 'changed' WHERE id = 777;"
      "DELETE FROM orders_copy WHERE id = 1500;");
  VerifyReport differ = CompareTables(conn, tables, options);
  EXPECT_FALSE(differ.ok());
  EXPECT_EQ(differ.rows_mismatched, 2) << Render(differ);
  EXPECT_EQ(differ.mismatched_ranges, 2);
  EXPECT_EQ(differ.right_rows, 2999);
  ASSERT_EQ(differ.first_mismatches.size(), 2u) << Render(differ);
  const MismatchRange& changed = differ.first_mismatches[0];
  EXPECT_EQ(FormatRange({"id"}, changed.range), "500 < id <= 1000");
  ASSERT_EQ(changed.samples.size(), 1u);
  EXPECT_EQ(changed.samples[0].key, (std::vector<std::string>{"777"}));
  EXPECT_EQ(changed.samples[0].expected, "(777,\"order 777\",1165.5)");
  EXPECT_EQ(changed.samples[0].actual, "(777,changed,1165.5)");
  const MismatchRange& missing = differ.first_mismatches[1];
  EXPECT_EQ(FormatRange({"id"}, missing.range), "1000 < id <= 1500");
  EXPECT_EQ(missing.rows, 500);
  EXPECT_EQ(missing.right_rows, 499);
  ASSERT_EQ(missing.samples.size(), 1u);
  EXPECT_EQ(missing.samples[0].key, (std::vector<std::string>{"1500"}));
  EXPECT_EQ(missing.samples[0].actual, std::nullopt) << "the copy has no row 1500";

  // Only the compared columns count.
  tables.columns = {"id", "amount"};
  VerifyReport amounts = CompareTables(conn, tables, options);
  EXPECT_EQ(amounts.rows_mismatched, 1) << Render(amounts);
}

// Clients updating random accounts through the old version, timing every statement, while a
// sampler counts the sessions the watched backend blocks.
struct Writers {
  Writers(const std::string& db, int clients, int rows) {
    threads.emplace_back([this, db] {
      pg::Connection conn = testing::Connect(db);
      while (!stop) {
        if (int pid = watched_pid; pid != 0) {
          blocked += static_cast<int>(conn.Exec("SELECT count(*) FROM pg_stat_activity "
                                                "WHERE $1::int = ANY(pg_blocking_pids(pid))",
                                                {std::to_string(pid)})
                                          .Int(0, 0));
        }
        std::this_thread::sleep_for(std::chrono::milliseconds(5));
      }
    });
    for (int i = 0; i < clients; ++i) {
      threads.emplace_back([this, db, i, rows] {
        pg::Connection conn = testing::Connect(db);
        for (std::uint64_t n = 0; !stop; ++n) {
          std::string id = std::to_string(1 + (i * 7919 + n * 104729) % rows);
          auto begin = Clock::now();
          try {
            conn.Exec("UPDATE accounts SET balance = balance + 1 WHERE id = $1", {id});
            ++done;
          } catch (const Error&) {
            ++failed;
          }
          auto micros =
              std::chrono::duration_cast<std::chrono::microseconds>(Clock::now() - begin).count();
          std::int64_t seen = max_micros;
          while (micros > seen && !max_micros.compare_exchange_weak(seen, micros)) {
          }
        }
      });
    }
  }
  ~Writers() { Stop(); }
  void Stop() {
    stop = true;
    for (auto& t : threads) {
      if (t.joinable()) t.join();
    }
  }
  std::atomic<bool> stop{false};
  std::atomic<int> watched_pid{0};
  std::atomic<int> blocked{0};
  std::atomic<int> done{0};
  std::atomic<int> failed{0};
  std::atomic<std::int64_t> max_micros{0};
  std::vector<std::thread> threads;
};

TEST(VerifyTest, BlocksNoWriterWhileItReadsEveryRange) {
  constexpr int kRows = 50000;
  std::string db = SetUpAccounts(kRows);
  pg::Connection conn = testing::Connect(db);
  auto record = StartBalanceBigint(conn);
  const engine::ColumnCheck& check = record.plan.checks.at(0);
  RowComparison comparison{check.description, check.schema, check.table, check.key_columns,
                           check.select_sql};
  Writers writers(db, 4, kRows);

  // The probe sees a blocker when there is one: a SHARE lock stops every UPDATE.
  pg::Connection locker = testing::Connect(db);
  writers.watched_pid = locker.BackendPid();
  locker.Run("BEGIN; LOCK TABLE accounts IN SHARE MODE");
  std::this_thread::sleep_for(std::chrono::milliseconds(300));
  locker.Run("ROLLBACK");
  EXPECT_GT(writers.blocked, 0) << "the sampler must be able to see a blocked writer";

  writers.watched_pid = conn.BackendPid();
  writers.blocked = 0;
  std::this_thread::sleep_for(std::chrono::milliseconds(100));
  writers.max_micros = 0;
  int done_before = writers.done;
  VerifyOptions options;
  options.range_rows = 5000;
  auto begin = Clock::now();
  int passes = 0;
  while (Clock::now() - begin < std::chrono::seconds(2) || passes < 2) {
    VerifyReport report = CompareRows(conn, comparison, options);
    EXPECT_TRUE(report.ok()) << Render(report);
    EXPECT_EQ(report.rows_checked, kRows);
    ++passes;
  }
  writers.Stop();
  EXPECT_EQ(writers.blocked, 0) << "verify held a lock a writer waited for";
  EXPECT_EQ(writers.failed, 0);
  EXPECT_GT(writers.done - done_before, 100) << "writers made progress during verify";
  // The sampler above is the test of blocking; this bound only catches a writer held for about
  // a whole pass. 100 ms was crossed by the machine alone with two test suites running at once.
  EXPECT_LT(writers.max_micros, 1'000'000)
      << "the slowest writer statement during " << passes << " verify passes";
}

}  // namespace
}  // namespace zerodown::verify
