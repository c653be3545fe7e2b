// zerodown proxy --metrics-addr: what /metrics says matches what happened. pgbench's transactions
// through the proxy are counted per target exactly as pgbench counts them; the clients and
// server-connection gauges follow clients coming and going; a statement's error is counted on
// its target; a PAUSE shows as paused and held while it lasts and adds its length to the paused
// seconds at RESUME; and each routed transaction is counted once under its route flag's outcome.
#include <fmt/format.h>
#include <gtest/gtest.h>
#include <libpq-fe.h>

#include <fstream>
#include <limits>
#include <regex>
#include <thread>

#include "support/database.hpp"
#include "support/http.hpp"
#include "support/proxy.hpp"

namespace zerodown {
namespace {

using testing::FreePort;
using testing::ProxyProcess;
using testing::Quoted;
using testing::SharedCluster;
using testing::Shell;

// A proxy with a metrics endpoint on a free port.
class MeteredProxy {
 public:
  explicit MeteredProxy(std::vector<std::string> args) : metrics_port_(FreePort()) {
    args.insert(args.end(), {"--metrics-addr", "127.0.0.1:" + std::to_string(metrics_port_)});
    proxy_ = std::make_unique<ProxyProcess>(args);
  }
  const ProxyProcess& proxy() const { return *proxy_; }

  // The value of one series, e.g. `zerodown_proxy_clients` or
  // `zerodown_proxy_transactions_total{target="blue"}` (labels in alphabetical order, as
  // prometheus-cpp writes them); NaN when the scrape does not have it.
  double Value(const std::string& series) const {
    std::string body = testing::HttpGet(metrics_port_, "/metrics");
    auto at = body.find("\n" + series + " ");
    if (at == std::string::npos) return std::numeric_limits<double>::quiet_NaN();
    return std::stod(body.substr(at + series.size() + 2));
  }
  // Waits up to 5 s for `series` to read `expected` (gauges follow the event loop).
  double Await(const std::string& series, double expected) const {
    double value = Value(series);
    for (int i = 0; i < 100 && value != expected; ++i) {
      std::this_thread::sleep_for(std::chrono::milliseconds(50));
      value = Value(series);
    }
    return value;
  }

 private:
  int metrics_port_;
  std::unique_ptr<ProxyProcess> proxy_;
};

std::string Series(const std::string& name, const std::string& labels) {
  return name + "{" + labels + "}";
}

// Runs `clients` pgbench clients of `transactions` each through the proxy on `target`, with a
// script of three statements in one transaction; returns the transactions pgbench processed.
int Pgbench(const ProxyProcess& proxy, const std::string& target, int clients, int transactions) {
  std::string script = ::testing::TempDir() + "/proxy_metrics_" + target + ".sql";
  std::ofstream(script) << "BEGIN;\nUPDATE counter SET n = n + 1;\nSELECT n FROM counter;\nEND;\n";
  std::string out;
  int rc = Shell(
      fmt::format("{}/pgbench -n -h 127.0.0.1 -p {} -U app -c {} -j 2 -t {} -f {} {}",
                  SharedCluster().bindir(), proxy.port(), clients, transactions, script, target),
      &out);
  EXPECT_EQ(rc, 0) << out << proxy.log();
  std::smatch match;
  if (!std::regex_search(out, match, std::regex(R"(actually processed: (\d+))"))) {
    ADD_FAILURE() << out;
    return -1;
  }
  return std::stoi(match[1]);
}

std::string CounterDatabase() {
  std::string db = testing::FreshDatabase();
  testing::Connect(db).Run("CREATE TABLE counter(n bigint); INSERT INTO counter VALUES (0)");
  return db;
}

TEST(ProxyMetrics, TransactionsPerTargetMatchPgbench) {
  std::string blue = CounterDatabase();
  std::string green = CounterDatabase();
  MeteredProxy metered({"--target", "blue=" + blue, "--target", "green=" + green, "--pool-mode",
                        "transaction", "--max-server-connections", "3"});
  const ProxyProcess& proxy = metered.proxy();
  EXPECT_EQ(metered.Value(Series("zerodown_proxy_transactions_total", "target=\"blue\"")), 0)
      << proxy.log();
  int on_blue = Pgbench(proxy, "blue", 4, 50);
  int on_green = Pgbench(proxy, "green", 2, 30);
  EXPECT_EQ(on_blue, 200);
  EXPECT_EQ(on_green, 60);
  // Counted as the last ReadyForQuery goes out, so a scrape may come a moment early.
  EXPECT_EQ(metered.Await(Series("zerodown_proxy_transactions_total", "target=\"blue\""), 200),
            on_blue);
  EXPECT_EQ(metered.Await(Series("zerodown_proxy_transactions_total", "target=\"green\""), 60),
            on_green);
  // Transaction pooling with 3 per target: all back in the pool, none held.
  EXPECT_EQ(metered.Await(
                Series("zerodown_proxy_server_connections", "state=\"active\",target=\"blue\""), 0),
            0);
  double idle =
      metered.Value(Series("zerodown_proxy_server_connections", "state=\"idle\",target=\"blue\""));
  EXPECT_GE(idle, 1);
  EXPECT_LE(idle, 3);
  EXPECT_EQ(metered.Value(Series("zerodown_proxy_errors_total", "kind=\"query\",target=\"blue\"")),
            0);
}

TEST(ProxyMetrics, ClientsAndErrorsAreCounted) {
  std::string blue = CounterDatabase();
  MeteredProxy metered({"--target", "blue=" + blue});
  const ProxyProcess& proxy = metered.proxy();
  EXPECT_EQ(metered.Value("zerodown_proxy_clients"), 0) << proxy.log();
  {
    std::vector<pg::Connection> clients;
    for (int i = 0; i < 3; ++i) clients.push_back(testing::Connect(proxy.ConnInfo("blue")));
    EXPECT_EQ(metered.Await("zerodown_proxy_clients", 3), 3);
    // Session pooling: each client holds a server connection.
    EXPECT_EQ(metered.Value(
                  Series("zerodown_proxy_server_connections", "state=\"active\",target=\"blue\"")),
              3);
    EXPECT_THROW(clients[0].Run("SELECT 1/0"), Error);
    EXPECT_EQ(
        metered.Value(Series("zerodown_proxy_errors_total", "kind=\"query\",target=\"blue\"")), 1);
  }
  EXPECT_EQ(metered.Await("zerodown_proxy_clients", 0), 0);
  EXPECT_EQ(metered.Await(
                Series("zerodown_proxy_server_connections", "state=\"idle\",target=\"blue\""), 3),
            3);
}

TEST(ProxyMetrics, APauseIsCountedInSeconds) {
  std::string blue = CounterDatabase();
  std::string green = CounterDatabase();
  MeteredProxy metered(
      {"--target", "blue=" + blue, "--target", "green=" + green, "--default", "blue"});
  const ProxyProcess& proxy = metered.proxy();
  pg::Connection client = testing::Connect(proxy.ConnInfo("shop"));
  EXPECT_EQ(metered.Value("zerodown_proxy_paused"), 0) << proxy.log();
  ASSERT_EQ(proxy.Control("pause"), 0) << proxy.log();
  EXPECT_EQ(metered.Value("zerodown_proxy_paused"), 1);
  // A transaction begun now is held until the RESUME.
  std::thread held([&client] { client.Run("UPDATE counter SET n = n + 1"); });
  EXPECT_EQ(metered.Await("zerodown_proxy_clients_held", 1), 1);
  ASSERT_EQ(proxy.Control("switch --to green"), 0);
  std::this_thread::sleep_for(std::chrono::milliseconds(400));
  ASSERT_EQ(proxy.Control("resume"), 0);
  held.join();
  EXPECT_EQ(metered.Value("zerodown_proxy_paused"), 0);
  EXPECT_EQ(metered.Value("zerodown_proxy_clients_held"), 0);
  double paused = metered.Value("zerodown_proxy_paused_seconds_total");
  EXPECT_GE(paused, 0.4);
  EXPECT_LT(paused, 5);
  EXPECT_EQ(metered.Value(Series("zerodown_proxy_switches_total", "target=\"green\"")), 1);
  EXPECT_EQ(metered.Await(Series("zerodown_proxy_transactions_total", "target=\"green\""), 1), 1);
}

// Runs `count` one-statement transactions on a new connection; the user id in its startup
// options unless empty.
void RunAs(const ProxyProcess& proxy, const std::string& user, int count) {
  std::string conninfo = proxy.ConnInfo("shop") + " options='-c search_path=v_old" +
                         (user.empty() ? "" : " -c zerodown.user_id=" + user) + "'";
  pg::Connection conn = testing::Connect(conninfo);
  for (int i = 0; i < count; ++i) {
    EXPECT_EQ(conn.Exec("SELECT whoami()").Text(0, 0), user.empty() ? "v_old" : "v_new");
  }
}

TEST(ProxyMetrics, RouteDecisionsAreCountedPerFlagAndVersion) {
  std::string db = testing::FreshDatabase();
  testing::Connect(db).Run(R"(
    CREATE SCHEMA v_old;
    CREATE SCHEMA v_new;
    CREATE FUNCTION v_old.whoami() RETURNS text LANGUAGE sql AS $$ SELECT 'v_old' $$;
    CREATE FUNCTION v_new.whoami() RETURNS text LANGUAGE sql AS $$ SELECT 'v_new' $$;)");
  std::string out;
  ASSERT_EQ(testing::RunZerodown("--postgres-url " + Quoted(db) +
                                     " flag set new_balance --rollout 100% --version v_new",
                                 &out),
            0)
      << out;
  MeteredProxy metered(
      {"--target", "shop=" + db, "--pool-mode", "transaction", "--route-flag", "new_balance"});
  const ProxyProcess& proxy = metered.proxy();
  auto decisions = [&](const std::string& labels) {
    return metered.Value(
        Series("zerodown_proxy_route_decisions_total", "flag=\"new_balance\"," + labels));
  };
  EXPECT_EQ(decisions("outcome=\"no_user_id\""), 0) << proxy.log();
  RunAs(proxy, "42", 5);
  RunAs(proxy, "7", 3);
  RunAs(proxy, "", 4);
  EXPECT_EQ(decisions("outcome=\"version\",version=\"v_new\""), 8) << proxy.log();
  EXPECT_EQ(decisions("outcome=\"no_user_id\""), 4);
  EXPECT_EQ(decisions("outcome=\"not_in_rollout\""), 0);
  EXPECT_EQ(metered.Await(Series("zerodown_proxy_transactions_total", "target=\"shop\""), 12), 12);
}

}  // namespace
}  // namespace zerodown
