// Promise: a --read-share target that cannot be reached costs the clients nothing. With the read
// target down before clients connect (a standby stopped, or a URL to a port nothing listens on),
// every client logs in and every read succeeds, on the primary; the proxy says once, not per
// read, that the read target is unreachable; and once the standby is back, reads run there again.
#include <fmt/format.h>
#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <iostream>
#include <map>
#include <mutex>
#include <thread>
#include <vector>

#include "support/database.hpp"
#include "support/proxy.hpp"
#include "support/standby.hpp"

namespace zerodown {
namespace {

using namespace std::chrono_literals;
using testing::ProxyProcess;

std::string Port(pg::Connection& conn) {
  return conn.Exec("SELECT current_setting('port')").Text(0, 0);
}

// What `clients` clients, each logging in through `proxy` and reading for `duration`, saw: the
// reads by the port that served them, and the errors.
struct Reads {
  std::map<std::string, int> by_port;
  int errors = 0;
  std::string last_error;
};

Reads ReadFor(const ProxyProcess& proxy, int clients, std::chrono::milliseconds duration) {
  Reads reads;
  std::mutex mutex;
  std::vector<std::thread> threads;
  auto end = std::chrono::steady_clock::now() + duration;
  for (int c = 0; c < clients; ++c) {
    threads.emplace_back([&] {
      try {
        pg::Connection client = testing::Connect(proxy.ConnInfo("shop"));
        while (std::chrono::steady_clock::now() < end) {
          std::string port = Port(client);
          std::lock_guard lock(mutex);
          ++reads.by_port[port];
        }
      } catch (const Error& e) {
        std::lock_guard lock(mutex);
        ++reads.errors;
        reads.last_error = e.message();
      }
    });
  }
  for (auto& t : threads) t.join();
  return reads;
}

// The lines of the proxy's log that name the read target `name`.
std::vector<std::string> TargetLines(const ProxyProcess& proxy, const std::string& name) {
  std::vector<std::string> lines;
  std::string log = proxy.log();
  std::string marker = "read target " + name;
  for (std::size_t at = 0; at < log.size();) {
    std::size_t end = log.find('\n', at);
    std::string line = log.substr(at, end - at);
    if (line.find(marker) != std::string::npos) lines.push_back(line);
    if (end == std::string::npos) break;
    at = end + 1;
  }
  return lines;
}

// Every read ran on `primary_port` with no error, and the proxy said once that `name` cannot be
// reached.
void ExpectReadsOnThePrimary(const ProxyProcess& proxy, const Reads& reads,
                             const std::string& primary_port, const std::string& name) {
  EXPECT_EQ(reads.errors, 0) << reads.last_error << proxy.log();
  ASSERT_EQ(reads.by_port.size(), 1u) << proxy.log();
  EXPECT_EQ(reads.by_port.begin()->first, primary_port);
  EXPECT_GT(reads.by_port.begin()->second, 100) << "the clients kept reading";
  auto lines = TargetLines(proxy, name);
  ASSERT_EQ(lines.size(), 1u) << proxy.log();
  std::cout << "the proxy said: " << lines[0] << "\n";
  EXPECT_NE(lines[0].find("cannot be reached"), std::string::npos) << lines[0];
  EXPECT_NE(lines[0].find("every read runs on blue"), std::string::npos) << lines[0];
  nlohmann::json status;
  ASSERT_EQ(proxy.Control("status", &status), 0);
  EXPECT_EQ(status["read_share"].value("known", true), false) << status.dump();
  EXPECT_EQ(status["read_share"]["decisions"].value("read_target", -1), 0) << status.dump();
}

TEST(ProxyReadTargetDown, AStoppedStandbyServesNoReadUntilItIsBack) {
  std::string db = testing::FreshDatabase();
  pg::Connection blue = testing::Connect(db);
  testing::Standby standby;
  std::string name = blue.Database();
  std::string standby_port =
      Port(*std::make_unique<pg::Connection>(pg::Connection::Open(standby.ConnInfo(name))));
  standby.Stop();
  ProxyProcess proxy({"--target", "blue=" + db, "--target", "replica=" + standby.ConnInfo(name),
                      "--default", "blue", "--pool-mode", "transaction", "--read-share",
                      "replica=100"});
  // Longer than the watcher's retry (1 s), twice over: a retry that fails alike says nothing new.
  Reads down = ReadFor(proxy, 4, 2500ms);
  ExpectReadsOnThePrimary(proxy, down, Port(blue), "replica");

  standby.Start();
  pg::Connection reader = testing::Connect(proxy.ConnInfo("shop"));
  std::string port;
  for (int i = 0; i < 300 && (port = Port(reader)) != standby_port; ++i) {
    std::this_thread::sleep_for(50ms);
  }
  EXPECT_EQ(port, standby_port) << "reads run on the standby again" << proxy.log();
  EXPECT_NE(proxy.log().find("read target replica: its replay position is known again"),
            std::string::npos)
      << proxy.log();
}

TEST(ProxyReadTargetDown, AClosedPortCostsSessionClientsNothing) {
  std::string db = testing::FreshDatabase();
  pg::Connection blue = testing::Connect(db);
  std::string closed =
      fmt::format("postgresql://nobody@127.0.0.1:{}/{}", testing::FreePort(), blue.Database());
  ProxyProcess proxy({"--target", "blue=" + db, "--target", "replica=" + closed, "--default",
                      "blue", "--pool-mode", "session", "--read-share", "replica=100"});
  Reads down = ReadFor(proxy, 4, 2500ms);
  ExpectReadsOnThePrimary(proxy, down, Port(blue), "replica");
}

}  // namespace
}  // namespace zerodown
