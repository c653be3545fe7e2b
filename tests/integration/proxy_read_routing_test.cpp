// zerodown proxy --read-share: read-only transactions of the primary's clients run on a read
// target (here green, a logical subscriber of blue) once it has replayed the client's last
// write. Clients that never wrote read on green (psql, pgbench -S in its three protocols, no
// failure); a client that wrote reads its own write at once, on blue, while green lags, and on
// green again once it caught up; 8 clients inserting and reading back their row 2,000 times each
// never miss it; a physical standby works as a read target too (a writer reads on the primary
// while the standby's replay is paused); a bad --read-share stops the proxy before it listens.
#include <fmt/format.h>
#include <gtest/gtest.h>

#include <atomic>
#include <regex>
#include <thread>

#include "support/bluegreen_pair.hpp"
#include "support/database.hpp"
#include "support/http.hpp"
#include "support/proxy.hpp"
#include "support/standby.hpp"

namespace zerodown {
namespace {

using testing::ProxyProcess;
using testing::Quoted;
using testing::SharedCluster;
using testing::Shell;

// Blue, and green subscribed to all of blue's tables: pgbench's tables and `notes`, created alike
// on both (pgbench -i writes the same rows every time), so the subscription copies nothing.
struct ReadPair {
  testing::BlueGreenPair pair;
  std::string blue_port;
  std::string green_port;

  void Create() {
    std::string out;
    for (const auto* db : {&pair.blue, &pair.green}) {
      ASSERT_EQ(Shell(SharedCluster().bindir() + "/pgbench -i -q -s 1 " + Quoted(*db), &out), 0)
          << out;
      testing::Connect(*db).Run(
          "CREATE TABLE notes (id bigint PRIMARY KEY, client int NOT NULL, body text)");
    }
    pg::Connection blue = testing::Connect(pair.blue);
    blue.Run("CREATE PUBLICATION readshare FOR ALL TABLES");
    pg::Connection green = testing::Connect(pair.green);
    green.Exec("CREATE SUBSCRIPTION readshare CONNECTION " + green.Literal(pair.blue) +
               " PUBLICATION readshare WITH (copy_data = false)");
    blue_port = blue.Exec("SELECT current_setting('port')").Text(0, 0);
    green_port = green.Exec("SELECT current_setting('port')").Text(0, 0);
    ASSERT_NE(blue_port, green_port);
  }
  ~ReadPair() {
    // The subscription goes first, so blue's slot can be dropped with its database.
    pg::Connection green = testing::Connect(pair.green);
    green.Run("ALTER SUBSCRIPTION readshare DISABLE");
    green.Run("ALTER SUBSCRIPTION readshare SET (slot_name = NONE)");
    green.Run("DROP SUBSCRIPTION readshare");
    testing::Connect(pair.blue).Exec(
        "SELECT pg_drop_replication_slot(slot_name) FROM pg_replication_slots "
        "WHERE slot_name = 'readshare' AND NOT active");
  }
  void SetSubscription(bool enabled) const {
    testing::Connect(pair.green)
        .Run(std::string("ALTER SUBSCRIPTION readshare ") + (enabled ? "ENABLE" : "DISABLE"));
  }
  std::vector<std::string> ProxyArgs(const std::string& mode, int percent = 100) const {
    return {"--target",     "blue=" + pair.blue,
            "--target",     "green=" + pair.green,
            "--default",    "blue",
            "--pool-mode",  mode,
            "--read-share", fmt::format("green={}", percent)};
  }
};

nlohmann::json ReadStatus(const ProxyProcess& proxy) {
  nlohmann::json status;
  EXPECT_EQ(proxy.Control("status", &status), 0);
  return status.value("read_share", nlohmann::json::object());
}

// Waits (up to 10 s) until the proxy knows green's replay position.
void WaitKnown(const ProxyProcess& proxy) {
  for (int i = 0; i < 200 && !ReadStatus(proxy).value("known", false); ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  ASSERT_TRUE(ReadStatus(proxy).value("known", false)) << ReadStatus(proxy).dump() << proxy.log();
}

std::string Port(pg::Connection& conn) {
  return conn.Exec("SELECT current_setting('port')").Text(0, 0);
}

long long Processed(const std::string& out) {
  std::smatch match;
  if (!std::regex_search(out, match, std::regex(R"(actually processed: (\d+))"))) return 0;
  return std::stoll(match[1]);
}

// One series of the proxy's /metrics, e.g. `zerodown_proxy_read_target_lag_bytes{target="green"}`;
// -2 when the scrape lacks it.
double Metric(int port, const std::string& series) {
  std::string body = testing::HttpGet(port, "/metrics");
  auto at = body.find("\n" + series + " ");
  return at == std::string::npos ? -2 : std::stod(body.substr(at + series.size() + 2));
}

void PgbenchSelectsOnGreen(const ReadPair& read, const std::string& mode) {
  SCOPED_TRACE(mode);
  int metrics_port = testing::FreePort();
  auto args = read.ProxyArgs(mode);
  args.insert(args.end(), {"--metrics-addr", "127.0.0.1:" + std::to_string(metrics_port)});
  ProxyProcess proxy(args);
  WaitKnown(proxy);
  std::string out;
  int rc = Shell(SharedCluster().bindir() + "/psql -XAt " + Quoted(proxy.ConnInfo("shop")) +
                     " -c 'SELECT current_setting($$port$$)'",
                 &out);
  EXPECT_EQ(rc, 0) << out;
  EXPECT_EQ(out, read.green_port + "\n") << "psql's read ran on blue, not green";
  long long processed = 0;
  for (const char* protocol : {"simple", "extended", "prepared"}) {
    long long before = ReadStatus(proxy)["decisions"]["read_target"].get<long long>();
    rc = Shell(SharedCluster().bindir() + "/pgbench -n -S -h 127.0.0.1 -p " +
                   std::to_string(proxy.port()) + " -U app -c 4 -j 2 -T 2 -M " + protocol + " shop",
               &out);
    EXPECT_EQ(rc, 0) << out << proxy.log();
    EXPECT_NE(out.find("number of failed transactions: 0 "), std::string::npos) << protocol << out;
    processed = Processed(out);
    EXPECT_GT(processed, 100) << protocol << out;
    auto decisions = ReadStatus(proxy)["decisions"];
    // Every pgbench transaction ran on green (and pgbench's own look at the scale, too).
    EXPECT_GE(decisions["read_target"].get<long long>() - before, processed)
        << protocol << decisions.dump() << proxy.log();
    EXPECT_EQ(decisions["read_your_writes"], 0) << protocol << decisions.dump();
  }
  auto status = ReadStatus(proxy);
  EXPECT_EQ(Metric(metrics_port,
                   R"(zerodown_proxy_read_decisions_total{outcome="read_target",target="green"})"),
            status["decisions"]["read_target"].get<double>());
  EXPECT_EQ(Metric(metrics_port, R"(zerodown_proxy_read_decisions_total{outcome="not_read_only",)"
                                 R"(target="green"})"),
            status["decisions"]["not_read_only"].get<double>());
  EXPECT_GE(Metric(metrics_port, R"(zerodown_proxy_read_target_lag_bytes{target="green"})"), 0);
  // The reads ran on green's read pool, whose transactions are counted as such.
  EXPECT_GE(Metric(metrics_port, R"x(zerodown_proxy_transactions_total{target="green (reads)"})x"),
            status["decisions"]["read_target"].get<double>());
}

TEST(ProxyReadRouting, ClientsThatNeverWroteReadOnGreenInTransactionPooling) {
  ReadPair read;
  read.Create();
  PgbenchSelectsOnGreen(read, "transaction");
}

TEST(ProxyReadRouting, ClientsThatNeverWroteReadOnGreenInSessionPooling) {
  ReadPair read;
  read.Create();
  PgbenchSelectsOnGreen(read, "session");
}

void AWriterReadsItsWriteWhileGreenLags(const std::string& mode) {
  SCOPED_TRACE(mode);
  ReadPair read;
  read.Create();
  ProxyProcess proxy(read.ProxyArgs(mode));
  WaitKnown(proxy);
  pg::Connection writer = testing::Connect(proxy.ConnInfo("shop"));
  pg::Connection reader = testing::Connect(proxy.ConnInfo("shop"));
  EXPECT_EQ(Port(writer), read.green_port);
  EXPECT_EQ(Port(reader), read.green_port);

  read.SetSubscription(false);  // green stops applying blue's writes
  writer.Run("INSERT INTO notes VALUES (1, 1, 'mine')");
  for (int i = 0; i < 50; ++i) {
    EXPECT_EQ(writer.Exec("SELECT count(*) FROM notes WHERE id = 1").Int(0, 0), 1) << i;
    EXPECT_EQ(Port(writer), read.blue_port) << i;
  }
  // The reader never wrote: it reads on green, which has not got the row.
  EXPECT_EQ(Port(reader), read.green_port);
  EXPECT_EQ(reader.Exec("SELECT count(*) FROM notes WHERE id = 1").Int(0, 0), 0);
  EXPECT_GE(ReadStatus(proxy)["decisions"]["read_your_writes"].get<long long>(), 100);
  // `proxy status` shows how far green is behind.
  std::string text;
  EXPECT_EQ(testing::RunZerodown("proxy status --admin " + proxy.admin(), &text), 0) << text;
  EXPECT_NE(text.find("read share: 100% of blue's read-only transactions to green, lag "),
            std::string::npos)
      << text;
  EXPECT_EQ(text.find("lag 0 bytes"), std::string::npos) << text;

  read.SetSubscription(true);
  std::string port;
  for (int i = 0; i < 200 && (port = Port(writer)) != read.green_port; ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  EXPECT_EQ(port, read.green_port)
      << "the writer's reads never went back to green" << ReadStatus(proxy).dump() << proxy.log();
  EXPECT_EQ(writer.Exec("SELECT count(*) FROM notes WHERE id = 1").Int(0, 0), 1);
  EXPECT_EQ(Port(writer), read.green_port);
}

TEST(ProxyReadRouting, AWriterReadsItsWriteWhileGreenLagsInTransactionPooling) {
  AWriterReadsItsWriteWhileGreenLags("transaction");
}

TEST(ProxyReadRouting, AWriterReadsItsWriteWhileGreenLagsInSessionPooling) {
  AWriterReadsItsWriteWhileGreenLags("session");
}

TEST(ProxyReadRouting, EightClientsAlwaysReadTheRowTheyJustInserted) {
  ReadPair read;
  read.Create();
  ProxyProcess proxy(read.ProxyArgs("transaction"));
  WaitKnown(proxy);
  constexpr int kClients = 8;
  constexpr int kRounds = 2000;
  std::atomic<int> misses{0};
  std::atomic<int> failures{0};
  std::vector<std::thread> clients;
  for (int c = 0; c < kClients; ++c) {
    clients.emplace_back([&, c] {
      try {
        pg::Connection conn = testing::Connect(proxy.ConnInfo("shop"));
        for (int i = 0; i < kRounds; ++i) {
          std::string id = std::to_string(c * 1000000 + i);
          conn.Exec("INSERT INTO notes VALUES ($1, $2, 'x')", {id, std::to_string(c)});
          if (conn.Exec("SELECT count(*) FROM notes WHERE id = $1", {id}).Int(0, 0) != 1) {
            ++misses;
          }
        }
      } catch (const std::exception& e) {
        ++failures;
        ADD_FAILURE() << e.what();
      }
    });
  }
  for (auto& t : clients) t.join();
  EXPECT_EQ(failures, 0);
  EXPECT_EQ(misses, 0) << "a client did not see the row it had just inserted";
  auto decisions = ReadStatus(proxy)["decisions"];
  std::cout << "8 x 2000 insert-then-read: " << decisions.dump() << "\n";
  EXPECT_EQ(decisions["not_read_only"], kClients * kRounds) << decisions.dump();
}

TEST(ProxyReadRouting, AStandbyIsAReadTargetToo) {
  std::string db = testing::FreshDatabase();
  pg::Connection blue = testing::Connect(db);
  blue.Run("CREATE TABLE notes (id bigint PRIMARY KEY, client int NOT NULL, body text)");
  testing::Standby standby;
  std::string name = blue.Database();
  pg::Connection replica = pg::Connection::Open(standby.ConnInfo(name));
  for (int i = 0; i < 300 && replica.Exec("SELECT to_regclass('notes') IS NULL").Bool(0, 0); ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
  std::string blue_port = Port(blue);
  std::string standby_port = Port(replica);
  ProxyProcess proxy({"--target", "blue=" + db, "--target", "replica=" + standby.ConnInfo(name),
                      "--default", "blue", "--pool-mode", "transaction", "--read-share",
                      "replica=100"});
  WaitKnown(proxy);
  pg::Connection writer = testing::Connect(proxy.ConnInfo("shop"));
  pg::Connection reader = testing::Connect(proxy.ConnInfo("shop"));
  EXPECT_EQ(Port(reader), standby_port);

  replica.Exec("SELECT pg_wal_replay_pause()");
  writer.Run("INSERT INTO notes VALUES (1, 1, 'mine')");
  for (int i = 0; i < 20; ++i) {
    EXPECT_EQ(writer.Exec("SELECT count(*) FROM notes WHERE id = 1").Int(0, 0), 1) << i;
    EXPECT_EQ(Port(writer), blue_port) << i;
  }
  EXPECT_EQ(Port(reader), standby_port);
  EXPECT_EQ(reader.Exec("SELECT count(*) FROM notes WHERE id = 1").Int(0, 0), 0);

  replica.Exec("SELECT pg_wal_replay_resume()");
  std::string port;
  for (int i = 0; i < 200 && (port = Port(writer)) != standby_port; ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  EXPECT_EQ(port, standby_port) << ReadStatus(proxy).dump() << proxy.log();
  EXPECT_EQ(writer.Exec("SELECT count(*) FROM notes WHERE id = 1").Int(0, 0), 1);
}

TEST(ProxyReadRouting, ABadReadShareStopsTheProxyBeforeItListens) {
  std::string db = testing::FreshDatabase();
  struct Case {
    std::string args;
    std::string says;
  };
  std::vector<Case> cases = {
      {"--read-share nope=50", "\"nope\" is not one of the targets (blue, green)"},
      {"--read-share green=150", "not TARGET=PERCENT with a whole percentage from 0 to 100"},
      {"--read-share green=-5", "not TARGET=PERCENT"},
      {"--read-share green", "not TARGET=PERCENT"},
      {"--read-share blue=50", "\"blue\" is the target the clients are served by"},
  };
  for (const auto& c : cases) {
    int port = testing::FreePort();
    std::string out;
    int rc = testing::RunZerodown(
        fmt::format("proxy --listen 127.0.0.1:{} --target blue={} --target green={} --default "
                    "blue {}",
                    port, Quoted(db), Quoted(db), c.args),
        &out);
    EXPECT_EQ(rc, 2) << c.args << "\n" << out;
    EXPECT_NE(out.find(c.says), std::string::npos) << c.args << "\n" << out;
    EXPECT_FALSE(testing::Listening(port)) << c.args;
  }
}

}  // namespace
}  // namespace zerodown
