// Promise: `zerodown bluegreen switch --proxy` moves 8 writing clients, connected through a real
// `zerodown proxy`, from blue to green and `switch --back --proxy` moves them back, with no client
// error, every acknowledged write present exactly once on the side that serves afterwards, sums
// equal, sequences never reusing a value, and a client-visible pause far below the step timeout;
// a target the proxy lacks is refused when the switch warms it, before anything changes; a proxy
// together with hooks is refused before anything changes.
#include <gtest/gtest.h>

#include <chrono>
#include <thread>

#include "support/bluegreen_pair.hpp"
#include "support/pooled_ledger.hpp"
#include "support/proxy.hpp"

namespace zerodown::testing {
namespace {

using namespace std::chrono_literals;

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
  PooledLedger ledger(pair.proxy.ConnInfo("app"), 8);
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
  ExpectLedgerKeptThroughSwitches(pair, ledger, "bluegreen switch --proxy", green_port,
                                  {pause_there, pause_back, there, back});
}

// The switch first asks the proxy to open its connections to the new side (WARM, outside the
// pause): a target the proxy does not have is refused there, before anything changes.
TEST(BlueGreenProxySwitch, AnUnknownProxyTargetIsRefusedBeforeAnythingChanges) {
  ProxiedPair pair;
  ASSERT_NO_FATAL_FAILURE(pair.Create());
  PooledLedger ledger(pair.proxy.ConnInfo("app"), 4);
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
  EXPECT_NE(out.find("more than one way to move traffic"), std::string::npos) << out;
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
