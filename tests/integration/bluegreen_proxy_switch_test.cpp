// Promise: `zerodown bluegreen switch --proxy` moves 8 writing clients, connected through a real
// `zerodown proxy`, from blue to green and `switch --back --proxy` moves them back, with no client
// error, every acknowledged write present exactly once on the side that serves afterwards, sums
// equal, sequences never reusing a value, and a client-visible pause far below the step timeout;
// a target the proxy lacks is refused when the switch warms it, before anything changes; a proxy
// together with hooks is refused before anything changes.
#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <mutex>
#include <thread>

#include "support/bluegreen_pair.hpp"
#include "support/proxy.hpp"
#include "support/writers.hpp"

namespace zerodown::testing {
namespace {

using namespace std::chrono_literals;

struct Ack {
  std::int64_t id;
  int client;
  int amount;
  std::string port;  // the server's, telling which cluster took the write
};

// Clients writing the ledger through the proxy, each insert acknowledged with its id and the
// port of the server that took it. The longest insert (a wait in a PAUSE included) is what the
// application sees of a switch.
class ProxiedLedger {
 public:
  ProxiedLedger(const ProxyProcess& proxy, int clients)
      : writers_(proxy.ConnInfo("app"), clients,
                 [this](pg::Connection& conn, int client, std::uint64_t n) {
                   Insert(conn, client, n);
                 }) {}

  void Stop() { writers_.Stop(); }
  int failed() const { return writers_.failed; }
  std::string last_error() { return writers_.last_error(); }
  std::int64_t TakeLongestMs() { return longest_ms_.exchange(0); }
  std::vector<Ack> acks() {
    std::lock_guard lock(mutex_);
    return acks_;
  }
  int AcksOn(const std::string& port) {
    std::lock_guard lock(mutex_);
    int n = 0;
    for (const auto& a : acks_) n += a.port == port ? 1 : 0;
    return n;
  }

 private:
  void Insert(pg::Connection& conn, int client, std::uint64_t n) {
    int amount = 1 + static_cast<int>((client * 7 + n) % 100);
    auto began = std::chrono::steady_clock::now();
    auto rows = conn.Exec(
        "INSERT INTO ledger (client, amount) VALUES ($1, $2) RETURNING id, current_setting('port')",
        {std::to_string(client), std::to_string(amount)});
    std::int64_t took = std::chrono::duration_cast<std::chrono::milliseconds>(
                            std::chrono::steady_clock::now() - began)
                            .count();
    {
      std::lock_guard lock(mutex_);
      acks_.push_back({rows.Int(0, 0), client, amount, rows.Text(0, 1)});
    }
    std::int64_t seen = longest_ms_.load();
    while (took > seen && !longest_ms_.compare_exchange_weak(seen, took)) {
    }
    // An application's steady rate, which one apply worker replays as it comes on two shared
    // cores; unpaced, the writers outrun it and the lag guardrail rightly refuses the switch.
    std::this_thread::sleep_for(5ms);
  }

  std::mutex mutex_;
  std::vector<Ack> acks_;
  std::atomic<std::int64_t> longest_ms_{0};
  Writers writers_;  // last: its threads stop before the fields above go
};

std::string Port(const std::string& conninfo) {
  return Connect(conninfo).Exec("SHOW port").Text(0, 0);
}

struct ProxiedPair : BlueGreenPair {
  ProxyProcess proxy{
      {"--target", "blue=" + blue, "--target", "green=" + green, "--default", "blue"}};

  nlohmann::json Switch(const std::string& extra, int* code, std::string* out) const {
    return BlueGreenPair::Switch("--proxy " + proxy.admin() + " " + extra, code, out);
  }
  std::string ProxyDefault() const {
    nlohmann::json status;
    EXPECT_EQ(proxy.Control("status", &status), 0);
    return status.value("default", std::string());
  }
};

TEST(BlueGreenProxySwitch, SwitchAndBackThroughTheProxyLoseNoWrite) {
  ProxiedPair pair;
  ASSERT_NO_FATAL_FAILURE(pair.Create());
  std::string blue_port = Port(pair.blue);
  std::string green_port = Port(pair.green);
  ASSERT_NE(blue_port, green_port);
  ProxiedLedger ledger(pair.proxy, 8);
  std::this_thread::sleep_for(1s);
  int code = 0;
  std::string out;
  auto there = pair.Switch("", &code, &out);
  ASSERT_EQ(code, 0) << out << pair.proxy.log();
  ASSERT_TRUE(there.is_object() && there["switched"] == true) << out;
  EXPECT_EQ(pair.ProxyDefault(), "green");
  // Held inserts finish after the switch returns: the longest is taken once they surely did.
  std::this_thread::sleep_for(1s);
  std::int64_t pause_there = ledger.TakeLongestMs();
  EXPECT_GT(ledger.AcksOn(green_port), 0) << "writes continue on green";
  auto back = pair.Switch("--back", &code, &out);
  ASSERT_EQ(code, 0) << out << pair.proxy.log();
  ASSERT_TRUE(back.is_object() && back["switched"] == true) << out;
  EXPECT_EQ(pair.ProxyDefault(), "blue");
  std::this_thread::sleep_for(1s);
  std::int64_t pause_back = ledger.TakeLongestMs();
  ledger.Stop();
  EXPECT_EQ(ledger.failed(), 0) << ledger.last_error();

  auto acks = ledger.acks();
  ExpectLedgerOnBothSides(pair, acks);
  ExpectShortWaits("bluegreen switch --proxy", acks.size(), ledger.AcksOn(green_port),
                   {pause_there, pause_back, there, back});
  ExpectFinishLeavesNothing(pair);
}

// The switch first asks the proxy to open its connections to the new side (WARM, outside the
// pause): a target the proxy does not have is refused there, before anything changes.
TEST(BlueGreenProxySwitch, AnUnknownProxyTargetIsRefusedBeforeAnythingChanges) {
  ProxiedPair pair;
  ASSERT_NO_FATAL_FAILURE(pair.Create());
  ProxiedLedger ledger(pair.proxy, 4);
  std::this_thread::sleep_for(500ms);
  int code = 0;
  std::string out;
  pair.Switch("--proxy-targets blue,nosuch", &code, &out);
  EXPECT_EQ(code, ExitCode(ErrorKind::kMigrationFailed)) << out;
  EXPECT_NE(out.find("could not ready the way to green"), std::string::npos) << out;
  EXPECT_NE(out.find("no target named \"nosuch\""), std::string::npos) << out;
  EXPECT_NE(out.find("Nothing was changed"), std::string::npos) << out;
  EXPECT_EQ(pair.ProxyDefault(), "blue");
  nlohmann::json status;
  ASSERT_EQ(pair.proxy.Control("status", &status), 0);
  EXPECT_FALSE(status.value("paused", true)) << status.dump();
  // Blue serves as before, unfenced, and takes the writes that follow.
  int before = static_cast<int>(ledger.acks().size());
  std::this_thread::sleep_for(500ms);
  EXPECT_GT(static_cast<int>(ledger.acks().size()), before);
  ledger.Stop();
  EXPECT_EQ(ledger.failed(), 0) << ledger.last_error();
  EXPECT_EQ(Count(pair.blue, "SELECT count(*) FROM pg_trigger WHERE tgname LIKE 'zerodown%'"), 0);
  pair.WaitEqual("SELECT count(*) FROM ledger");
  ExpectEveryAck(pair.green, ledger.acks(), "green");
  ASSERT_EQ(RunZerodown(BlueGreen("abort", pair.blue, pair.green), &out), 0) << out;
}

TEST(BlueGreenProxySwitch, ProxyAndHooksTogetherAreRefused) {
  ProxiedPair pair;
  ASSERT_NO_FATAL_FAILURE(pair.Create());
  int code = 0;
  std::string out;
  pair.Switch("--pause-command true", &code, &out);
  EXPECT_EQ(code, ExitCode(ErrorKind::kUsage)) << out;
  EXPECT_NE(out.find("both --proxy and traffic hooks"), std::string::npos) << out;
  auto status = nlohmann::json::parse(
      [&] {
        std::string s;
        EXPECT_EQ(RunZerodown("--json " + BlueGreen("status", pair.blue, pair.green), &s), 0);
        return s.substr(0, s.find('\n'));
      }(),
      nullptr, false);
  EXPECT_EQ(status.value("serving", std::string()), "blue");
  EXPECT_EQ(status.value("phase", std::string()), "replicating");
  ASSERT_EQ(RunZerodown(BlueGreen("abort", pair.blue, pair.green), &out), 0) << out;
}

}  // namespace
}  // namespace zerodown::testing
