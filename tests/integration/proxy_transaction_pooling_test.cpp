// zerodown proxy --pool-mode transaction: a server connection per transaction, so 8 pgbench
// clients run on 3 server connections with the simple and extended protocols and no failed
// transaction; a client that prepares named statements (-M prepared) keeps its connection and
// works too.
#include <gtest/gtest.h>

#include <chrono>
#include <regex>
#include <thread>

#include "support/database.hpp"
#include "support/proxy.hpp"

namespace zerodown {
namespace {

using testing::ProxyProcess;
using testing::Quoted;
using testing::SharedCluster;
using testing::Shell;

std::string Pgbench(const ProxyProcess& proxy, const std::string& mode, int clients) {
  std::string out;
  int rc =
      Shell(SharedCluster().bindir() + "/pgbench -h 127.0.0.1 -p " + std::to_string(proxy.port()) +
                " -U app -c " + std::to_string(clients) + " -j 2 -T 3 -M " + mode + " blue",
            &out);
  EXPECT_EQ(rc, 0) << out << proxy.log();
  EXPECT_NE(out.find("number of failed transactions: 0 "), std::string::npos) << mode << out;
  std::smatch match;
  EXPECT_TRUE(std::regex_search(out, match, std::regex(R"(actually processed: (\d+))"))) << out;
  if (!match.empty()) {
    EXPECT_GT(std::stoi(match[1]), 100) << mode << "\n" << out;
  }
  return out;
}

TEST(ProxyTransactionPooling, EightClientsShareThreeServerConnections) {
  std::string db = testing::FreshDatabase();
  std::string out;
  ASSERT_EQ(Shell(SharedCluster().bindir() + "/pgbench -i -q -s 1 " + Quoted(db), &out), 0) << out;
  ProxyProcess proxy(
      {"--target", "blue=" + db, "--pool-mode", "transaction", "--max-server-connections", "3"});
  Pgbench(proxy, "simple", 8);
  Pgbench(proxy, "extended", 8);
  nlohmann::json status;
  ASSERT_EQ(proxy.Control("status", &status), 0);
  EXPECT_LE(status["targets"][0]["server_connections"].get<int>(), 3) << status.dump();
}

TEST(ProxyTransactionPooling, PreparedStatementsKeepTheirConnection) {
  std::string db = testing::FreshDatabase();
  std::string out;
  ASSERT_EQ(Shell(SharedCluster().bindir() + "/pgbench -i -q -s 1 " + Quoted(db), &out), 0) << out;
  ProxyProcess proxy({"--target", "blue=" + db, "--pool-mode", "transaction"});
  Pgbench(proxy, "prepared", 4);
}

TEST(ProxyTransactionPooling, APreparedStatementStaysWhereItWasPrepared) {
  std::string db = testing::FreshDatabase();
  ProxyProcess proxy(
      {"--target", "blue=" + db, "--pool-mode", "transaction", "--max-server-connections", "2"});
  pg::Connection a = testing::Connect(proxy.ConnInfo("blue"));
  pg::Connection b = testing::Connect(proxy.ConnInfo("blue"));
  PGresult* prepared = PQprepare(a.raw(), "mine", "SELECT 42", 0, nullptr);
  EXPECT_EQ(PQresultStatus(prepared), PGRES_COMMAND_OK) << PQerrorMessage(a.raw());
  PQclear(prepared);
  // b's transaction takes the connection a last used, unless a kept it for its statement.
  b.Run("BEGIN");
  PGresult* ran = PQexecPrepared(a.raw(), "mine", 0, nullptr, nullptr, nullptr, 0);
  EXPECT_EQ(PQresultStatus(ran), PGRES_TUPLES_OK) << PQerrorMessage(a.raw());
  PQclear(ran);
  b.Run("COMMIT");
}

TEST(ProxyTransactionPooling, SessionSettingsFollowTheClient) {
  std::string db = testing::FreshDatabase();
  ProxyProcess proxy(
      {"--target", "blue=" + db, "--pool-mode", "transaction", "--max-server-connections", "1"});
  // Two clients with different startup settings take turns on one server connection; each
  // sees its own settings in every transaction.
  pg::Connection a = testing::Connect(proxy.ConnInfo("blue") + " options='-c work_mem=5MB'");
  pg::Connection b = testing::Connect(proxy.ConnInfo("blue") + " options='-c work_mem=9MB'");
  for (int i = 0; i < 3; ++i) {
    EXPECT_EQ(a.Exec("SHOW work_mem").Text(0, 0), "5MB");
    EXPECT_EQ(b.Exec("SHOW work_mem").Text(0, 0), "9MB");
  }
}

// A server connection that the server ends while it sits idle in the pool (an administrator's
// pg_terminate_backend, idle_session_timeout) is not handed to the next transaction: that runs on
// a new connection instead of failing on the dead one.
TEST(ProxyTransactionPooling, AConnectionTheServerEndedWhileIdleIsNotHandedOut) {
  std::string db = testing::FreshDatabase();
  ProxyProcess proxy(
      {"--target", "blue=" + db, "--pool-mode", "transaction", "--max-server-connections", "2"});
  pg::Connection client = testing::Connect(proxy.ConnInfo("blue"));
  std::int64_t first = client.Exec("SELECT pg_backend_pid()").Int(0, 0);
  pg::Connection admin = testing::Connect(db);
  admin.Exec("SELECT pg_terminate_backend(" + std::to_string(first) + ")");
  for (int i = 0; i < 100; ++i) {
    auto left =
        admin.Exec("SELECT count(*) FROM pg_stat_activity WHERE pid = " + std::to_string(first));
    if (left.Int(0, 0) == 0) break;
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  auto next = client.TryExec("SELECT pg_backend_pid()");
  ASSERT_TRUE(next.ok()) << next.error().message() << proxy.log();
  EXPECT_NE(next->Int(0, 0), first);
}

}  // namespace
}  // namespace zerodown
