// zerodown proxy --route-flag: a version rolled out by user bucket. Two version schemas, v_old and
// v_new, each with a function whoami() naming itself, over one accounts table; 8 clients give
// 10,000 distinct user ids (SET zerodown.user_id per transaction, in the same Query as the
// transaction, or startup options on a fresh connection) while the flag goes 0 -> 10 -> 50 ->
// 100 -> 0 %. Every transaction that began more than 1.2 s after a flag change saw the version
// flags::Enabled gives its user, the same version at its end as at its start; none failed, and
// no money was lost.
#include <fmt/format.h>
#include <gtest/gtest.h>

#include <atomic>
#include <mutex>
#include <set>
#include <thread>

#include "support/database.hpp"
#include "support/proxy.hpp"
#include "zerodown/flags/store.hpp"

namespace zerodown {
namespace {

using Clock = std::chrono::steady_clock;
using testing::ProxyProcess;

constexpr int kClients = 8;
constexpr int kUsers = 10000;
constexpr int kAccounts = 100;
constexpr const char* kFlag = "new_balance";
// A change reaches the proxy within 1 s; transactions that begin in this window are not judged.
constexpr std::chrono::milliseconds kSettle{1200};

// One transaction as a client saw it.
struct Observed {
  std::string user;
  Clock::time_point begun;
  Clock::time_point ended;
  std::string first;  // whoami() at its start
  std::string last;   // whoami() at its end (the same statement for one-statement transactions)
};

// A flag change: when it was asked for and when `flag set` returned.
struct Change {
  Clock::time_point asked;
  Clock::time_point done;
  flags::FlagState state;
};

void CreateVersions(const std::string& db) {
  pg::Connection conn = testing::Connect(db);
  conn.Run(fmt::format(R"(
    CREATE TABLE public.accounts(id int PRIMARY KEY, balance bigint NOT NULL);
    INSERT INTO public.accounts SELECT g, 1000 FROM generate_series(1, {}) g;
    CREATE SCHEMA v_old;
    CREATE SCHEMA v_new;
    CREATE FUNCTION v_old.whoami() RETURNS text LANGUAGE sql AS $$ SELECT 'v_old' $$;
    CREATE FUNCTION v_new.whoami() RETURNS text LANGUAGE sql AS $$ SELECT 'v_new' $$;)",
                       kAccounts));
}

class Workload {
 public:
  Workload(const ProxyProcess& proxy) : proxy_(proxy) {
    for (int i = 0; i < kClients; ++i) threads_.emplace_back([this, i] { Client(i); });
  }
  ~Workload() { Stop(); }
  void Stop() {
    stop_ = true;
    for (auto& thread : threads_) {
      if (thread.joinable()) thread.join();
    }
  }
  int users_given() const { return next_user_.load(); }
  std::vector<Observed> observed() {
    std::lock_guard lock(mutex_);
    return observed_;
  }
  std::vector<std::string> failures() {
    std::lock_guard lock(mutex_);
    return failures_;
  }

 private:
  std::string NextUser() { return std::to_string(next_user_++ % kUsers); }

  // Clients 0-3 SET a new user id before each transaction; 4-5 send the SET in the same Query
  // as a one-statement transaction; 6-7 connect anew every 10 transactions with the user id in
  // their startup options.
  void Client(int index) {
    std::string base = proxy_.ConnInfo("shop") + " options='-c search_path=v_old'";
    for (int n = 0; !stop_;) {
      std::string user = NextUser();
      std::string conninfo = base;
      if (index >= 6) {
        conninfo = proxy_.ConnInfo("shop") +
                   " options='-c search_path=v_old -c zerodown.user_id=" + user + "'";
      }
      PGconn* conn = PQconnectdb(conninfo.c_str());
      if (PQstatus(conn) != CONNECTION_OK) {
        Fail(fmt::format("connect: {}", PQerrorMessage(conn)));
        PQfinish(conn);
        continue;
      }
      int per_connection = index >= 6 ? 1 : 10;  // 6-7: a new connection per user
      for (int i = 0; i < per_connection && !stop_; ++i, ++n) {
        if (i > 0) user = NextUser();
        if (index < 4) {
          if (!Exec(conn, fmt::format("SET zerodown.user_id = '{}'", user))) break;
          Transfer(conn, user, n);
        } else if (index < 6) {
          Observed seen{user, Clock::now(), {}, {}, {}};
          std::string who;
          if (!Exec(conn, fmt::format("SET zerodown.user_id = '{}'; SELECT whoami()", user), &who))
            break;
          seen.ended = Clock::now();
          seen.first = seen.last = who;
          Record(seen);
        } else {
          Transfer(conn, user, n);
        }
      }
      PQfinish(conn);
    }
  }

  // A transaction moving one unit between two accounts (locked in id order, so no deadlock),
  // with whoami() at its start and its end.
  void Transfer(PGconn* conn, const std::string& user, int n) {
    int from = 1 + (n * 7 + std::stoi(user)) % kAccounts;
    int to = 1 + (from + 1 + n % 13) % kAccounts;
    if (from == to) to = 1 + from % kAccounts;
    Observed seen{user, Clock::now(), {}, {}, {}};
    bool ok = Exec(conn, "BEGIN") && Exec(conn, "SELECT whoami()", &seen.first);
    ok = ok && Exec(conn, fmt::format("UPDATE public.accounts SET balance = balance + "
                                      "CASE WHEN id = {} THEN -1 ELSE 1 END WHERE id IN ({}, {})",
                                      from, from, to));
    ok = ok && Exec(conn, "SELECT whoami()", &seen.last) && Exec(conn, "COMMIT");
    if (!ok) {
      Exec(conn, "ROLLBACK");
      return;
    }
    seen.ended = Clock::now();
    Record(seen);
  }

  bool Exec(PGconn* conn, const std::string& sql, std::string* value = nullptr) {
    PGresult* result = PQexec(conn, sql.c_str());
    ExecStatusType status = PQresultStatus(result);
    bool ok = status == PGRES_COMMAND_OK || status == PGRES_TUPLES_OK;
    if (!ok) Fail(fmt::format("{}: {}", sql, PQresultErrorMessage(result)));
    if (ok && value != nullptr && PQntuples(result) == 1) *value = PQgetvalue(result, 0, 0);
    PQclear(result);
    return ok;
  }
  void Fail(std::string why) {
    std::lock_guard lock(mutex_);
    failures_.push_back(std::move(why));
  }
  void Record(const Observed& seen) {
    std::lock_guard lock(mutex_);
    observed_.push_back(seen);
  }

  const ProxyProcess& proxy_;
  std::atomic<bool> stop_{false};
  std::atomic<int> next_user_{0};
  std::mutex mutex_;
  std::vector<Observed> observed_;
  std::vector<std::string> failures_;
  std::vector<std::thread> threads_;
};

Change SetRollout(const std::string& db, int percent) {
  Change change{Clock::now(), {}, flags::FlagState{true, percent * 100, "v_new"}};
  std::string out;
  EXPECT_EQ(testing::RunZerodown(fmt::format("--postgres-url {} flag set {} --rollout {}% "
                                             "--version v_new",
                                             testing::Quoted(db), kFlag, percent),
                                 &out),
            0)
      << out;
  change.done = Clock::now();
  return change;
}

// The state in force for a transaction, or none when it ran too close to a change to judge.
std::optional<flags::FlagState> InForce(const std::vector<Change>& changes, const Observed& seen) {
  for (std::size_t i = 0; i < changes.size(); ++i) {
    bool last = i + 1 == changes.size();
    if (seen.begun < changes[i].done + kSettle) continue;
    if (!last && seen.ended >= changes[i + 1].asked) continue;
    return changes[i].state;
  }
  return std::nullopt;
}

// Every transaction against the flag state in force when it ran.
struct Verdict {
  std::map<int, std::pair<int, int>> judged;  // rollout bp -> (transactions, on v_new)
  int wrong = 0;
  std::string examples;
  std::set<std::string> users;
};

Verdict Judge(const std::vector<Change>& changes, const std::vector<Observed>& observed) {
  Verdict v;
  for (const auto& seen : observed) {
    v.users.insert(seen.user);
    if (seen.first != seen.last && ++v.wrong <= 5) {
      v.examples += fmt::format("user {} saw {} then {} in one transaction\n", seen.user,
                                seen.first, seen.last);
    }
    auto state = InForce(changes, seen);
    if (!state) continue;
    std::string expected = flags::Enabled(*state, kFlag, seen.user) ? "v_new" : "v_old";
    auto& [count, on_new] = v.judged[state->rollout_bp];
    ++count;
    on_new += seen.first == "v_new";
    if (seen.first != expected && ++v.wrong <= 5) {
      v.examples +=
          fmt::format("user {} (bucket {}) at {} bp saw {}, expected {}\n", seen.user,
                      flags::Bucket(kFlag, seen.user), state->rollout_bp, seen.first, expected);
    }
  }
  return v;
}

void RollOut(const std::string& pool_mode) {
  std::string db = testing::FreshDatabase();
  CreateVersions(db);
  std::vector<Change> changes{SetRollout(db, 0)};
  ProxyProcess proxy({"--target", "shop=" + db, "--pool-mode", pool_mode, "--route-flag", kFlag,
                      "--max-server-connections", "6"});
  Workload workload(proxy);
  for (int percent : {10, 50, 100}) {
    std::this_thread::sleep_for(std::chrono::seconds(3));
    changes.push_back(SetRollout(db, percent));
  }
  std::this_thread::sleep_for(std::chrono::seconds(3));
  changes.push_back(SetRollout(db, 0));
  auto until = Clock::now() + std::chrono::seconds(60);
  std::this_thread::sleep_for(std::chrono::seconds(3));
  while (workload.users_given() < kUsers + 100 && Clock::now() < until) {
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
  workload.Stop();

  auto failures = workload.failures();
  EXPECT_TRUE(failures.empty()) << failures.size() << " failed, the first: " << failures[0]
                                << proxy.log();
  EXPECT_GE(workload.users_given(), kUsers) << "the clients did not cover every user id";
  Verdict verdict = Judge(changes, workload.observed());
  EXPECT_EQ(verdict.wrong, 0) << verdict.examples;
  EXPECT_EQ(verdict.users.size(), static_cast<std::size_t>(kUsers));
  for (int bp : {0, 1000, 5000, 10000}) {
    EXPECT_GT(verdict.judged[bp].first, 50) << "too few transactions judged at " << bp << " bp";
  }
  std::string report;
  for (const auto& [bp, counts] : verdict.judged) {
    report += fmt::format(" {}bp: {}/{} on v_new;", bp, counts.second, counts.first);
  }
  std::cout << pool_mode << " pooling, judged transactions:" << report << "\n";

  pg::Connection check = testing::Connect(db);
  EXPECT_EQ(check.Exec("SELECT sum(balance) FROM public.accounts").Int(0, 0), kAccounts * 1000);
  nlohmann::json status;
  ASSERT_EQ(proxy.Control("status", &status), 0);
  EXPECT_EQ(status["route"]["flag"], kFlag) << status.dump();
  EXPECT_GT(status["route"]["to_version"].get<long long>(), 0) << status.dump();
  EXPECT_GT(status["route"]["not_to_version"].get<long long>(), 0) << status.dump();
}

TEST(ProxyRollout, TransactionPooling) { RollOut("transaction"); }

TEST(ProxyRollout, SessionPooling) { RollOut("session"); }

// A user id in and one out of a 50% rollout, by the frozen bucket function.
std::pair<std::string, std::string> UsersInAndOut() {
  std::string in, out;
  for (int i = 0; in.empty() || out.empty(); ++i) {
    std::string id = "user" + std::to_string(i);
    (flags::Bucket(kFlag, id) < 5000 ? in : out) = id;
  }
  return {in, out};
}

std::string Who(pg::Connection& conn) { return conn.Exec("SELECT whoami()").Text(0, 0); }

TEST(ProxyRollout, UserIdFromStartupSetAndReset) {
  std::string db = testing::FreshDatabase();
  CreateVersions(db);
  SetRollout(db, 50);
  auto [in, out] = UsersInAndOut();
  for (std::string mode : {"transaction", "session"}) {
    ProxyProcess proxy({"--target", "shop=" + db, "--pool-mode", mode, "--route-flag", kFlag});
    std::string options = " options='-c search_path=v_old -c zerodown.user_id=" + in + "'";
    pg::Connection conn = testing::Connect(proxy.ConnInfo("shop") + options);
    EXPECT_EQ(Who(conn), "v_new") << mode;
    conn.Run("SET zerodown.user_id = '" + out + "'");
    EXPECT_EQ(Who(conn), "v_old") << mode;
    EXPECT_EQ(conn.Exec("SELECT current_setting('zerodown.user_id')").Text(0, 0), out) << mode;
    conn.Run("RESET zerodown.user_id");
    EXPECT_EQ(Who(conn), "v_new") << mode;
    // The route is chosen when a transaction begins: a SET inside it counts from the next one.
    conn.Run("BEGIN");
    conn.Run("SET zerodown.user_id = '" + out + "'");
    EXPECT_EQ(Who(conn), "v_new") << mode;
    conn.Run("COMMIT");
    EXPECT_EQ(Who(conn), "v_old") << mode;
    // Without a user id a client is out, and keeps the search_path it set itself.
    pg::Connection anonymous = testing::Connect(proxy.ConnInfo("shop"));
    anonymous.Run("SET search_path = v_old");
    EXPECT_EQ(Who(anonymous), "v_old") << mode;
    anonymous.Run("SET zerodown.user_id = '" + in + "'");
    EXPECT_EQ(Who(anonymous), "v_new") << mode;
    anonymous.Run("SET zerodown.user_id = '" + out + "'");
    EXPECT_EQ(Who(anonymous), "v_old") << mode;
  }
}

TEST(ProxyRollout, AFlagMovedToAMissingVersionKeepsTheLastGoodState) {
  std::string db = testing::FreshDatabase();
  CreateVersions(db);
  SetRollout(db, 50);
  auto [in, out] = UsersInAndOut();
  ProxyProcess proxy(
      {"--target", "shop=" + db, "--pool-mode", "transaction", "--route-flag", kFlag});
  // `flag set` refuses a missing version; plain SQL does not.
  testing::Connect(db).Run(
      "UPDATE zerodown.flags SET version = 'v_gone', rollout_bp = 10000 WHERE name = "
      "'new_balance'");
  std::this_thread::sleep_for(std::chrono::milliseconds(1500));
  EXPECT_NE(proxy.log().find("WARNING: route flag \"new_balance\" was changed to name version "
                             "\"v_gone\""),
            std::string::npos)
      << proxy.log();
  pg::Connection a = testing::Connect(
      proxy.ConnInfo("shop") + " options='-c search_path=v_old -c zerodown.user_id=" + in + "'");
  pg::Connection b = testing::Connect(
      proxy.ConnInfo("shop") + " options='-c search_path=v_old -c zerodown.user_id=" + out + "'");
  EXPECT_EQ(Who(a), "v_new");
  EXPECT_EQ(Who(b), "v_old");
  // Back to an existing version: applied within a second.
  SetRollout(db, 100);
  std::this_thread::sleep_for(std::chrono::milliseconds(1200));
  EXPECT_EQ(Who(b), "v_new") << proxy.log();
}

// How long until `conn`'s transactions run on `version`, asking every 10 ms; -1 after 3 s.
long long MillisecondsUntil(pg::Connection& conn, const std::string& version) {
  auto start = Clock::now();
  while (Clock::now() - start < std::chrono::seconds(3)) {
    if (Who(conn) == version) {
      return std::chrono::duration_cast<std::chrono::milliseconds>(Clock::now() - start).count();
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  return -1;
}

TEST(ProxyRollout, ChangesArriveWithinASecondWithAndWithoutTheNotification) {
  std::string db = testing::FreshDatabase();
  CreateVersions(db);
  SetRollout(db, 0);
  auto [in, out] = UsersInAndOut();
  ProxyProcess proxy(
      {"--target", "shop=" + db, "--pool-mode", "transaction", "--route-flag", kFlag});
  pg::Connection conn = testing::Connect(
      proxy.ConnInfo("shop") + " options='-c search_path=v_old -c zerodown.user_id=" + out + "'");
  EXPECT_EQ(Who(conn), "v_old");
  SetRollout(db, 100);
  long long notified = MillisecondsUntil(conn, "v_new");
  EXPECT_GE(notified, 0) << proxy.log();
  EXPECT_LT(notified, 1000) << proxy.log();
  // A change that sends no notification (the trigger that sends it is off) is read by the poll.
  pg::Connection admin = testing::Connect(db);
  admin.Run("ALTER TABLE zerodown.flags DISABLE TRIGGER flags_audit");
  admin.Run("UPDATE zerodown.flags SET rollout_bp = 0 WHERE name = 'new_balance'");
  long long polled = MillisecondsUntil(conn, "v_old");
  EXPECT_GE(polled, 0) << proxy.log();
  EXPECT_LT(polled, 1000) << proxy.log();
  std::cout << "a change reached the proxy after " << notified << " ms by NOTIFY, " << polled
            << " ms by the re-read\n";
}

TEST(ProxyRollout, BadRouteFlagsAreRefusedBeforeListening) {
  std::string db = testing::FreshDatabase();
  CreateVersions(db);
  std::string out;
  int rc = testing::RunZerodown(
      fmt::format("proxy --listen 127.0.0.1:{} --target shop={} --route-flag nope",
                  testing::FreePort(), testing::Quoted(db)),
      &out);
  EXPECT_NE(rc, 0);
  EXPECT_NE(out.find("has no flag of that name"), std::string::npos) << out;
  SetRollout(db, 10);
  testing::Connect(db).Run("DROP FUNCTION v_new.whoami(); DROP SCHEMA v_new");
  rc = testing::RunZerodown(fmt::format("proxy --listen 127.0.0.1:{} --target shop={} "
                                        "--route-flag {}",
                                        testing::FreePort(), testing::Quoted(db), kFlag),
                            &out);
  EXPECT_NE(rc, 0);
  EXPECT_NE(out.find("has no schema of that name"), std::string::npos) << out;
}

}  // namespace
}  // namespace zerodown
