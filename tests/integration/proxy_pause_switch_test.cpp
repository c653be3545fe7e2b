// zerodown proxy's live control: PAUSE lets running transactions finish and holds new ones, SWITCH
// moves every client (idle ones too) to another target, RESUME lets them go on, with no client
// error and no lost write over 100 cycles under 8 clients; a RESUME racing a PAUSE never hangs
// either; a PAUSE that cannot drain resumes by itself or cancels the blockers when asked.
#include <gtest/gtest.h>

#include <future>
#include <mutex>

#include "support/database.hpp"
#include "support/proxy.hpp"
#include "support/writers.hpp"

namespace zerodown {
namespace {

using testing::ProxyProcess;
using Ms = std::chrono::milliseconds;

struct TwoTargets {
  std::string blue = testing::FreshDatabase();
  std::string green;
  TwoTargets() {
    pg::Connection admin = testing::Connect(testing::SharedCluster().ConnInfo("postgres"));
    std::string name = testing::Connect(blue).Database() + "_green";
    admin.Exec("DROP DATABASE IF EXISTS " + admin.Ident(name) + " WITH (FORCE)");
    green = testing::SharedCluster().CreateDatabase(name);
    for (const auto& db : {blue, green}) {
      testing::Connect(db).Run(
          "CREATE TABLE writes(client int, n bigint, at_target text, PRIMARY KEY (client, n))");
    }
  }
  std::vector<std::string> Args() const {
    return {"--target", "blue=" + blue, "--target", "green=" + green, "--default", "blue"};
  }
};

long long Rows(const std::string& db) {
  return testing::Connect(db).Exec("SELECT count(*) FROM writes").Int(0, 0);
}

// When a transaction began (its BEGIN was sent) and when its COMMIT returned.
struct Span {
  std::chrono::steady_clock::time_point begun, ended;
};

// The longest of the transactions that were running at `at` (begun before, ended after), in ms.
long long LongestRunningAt(const std::vector<Span>& spans,
                           std::chrono::steady_clock::time_point at) {
  long long longest = 0;
  for (const auto& span : spans) {
    if (span.begun <= at && span.ended > at) {
      longest = std::max<long long>(
          longest, std::chrono::duration_cast<Ms>(span.ended - span.begun).count());
    }
  }
  return longest;
}

TEST(ProxyPauseSwitch, HundredCyclesUnderEightClientsLoseNothing) {
  TwoTargets targets;
  ProxyProcess proxy(targets.Args());
  // Each transaction spans four client messages with a sleep inside, so PAUSE often begins while
  // some are half done and must wait for them.
  std::mutex mutex;
  std::vector<Span> spans;
  testing::Writers writers(proxy.ConnInfo("app"), 8,
                           [&](pg::Connection& conn, int client, std::uint64_t n) {
                             auto begun = std::chrono::steady_clock::now();
                             conn.Run("BEGIN");
                             conn.Exec("INSERT INTO writes VALUES ($1, $2, current_database())",
                                       {std::to_string(client), std::to_string(n)});
                             conn.Run("SELECT pg_sleep(" + std::to_string((n % 4) * 0.01) + ")");
                             conn.Run("COMMIT");
                             std::lock_guard lock(mutex);
                             spans.push_back({begun, std::chrono::steady_clock::now()});
                           });
  std::this_thread::sleep_for(Ms(300));
  std::vector<std::pair<std::chrono::steady_clock::time_point, long long>> pauses;
  for (int cycle = 0; cycle < 100; ++cycle) {
    nlohmann::json answer;
    auto asked = std::chrono::steady_clock::now();
    ASSERT_EQ(proxy.Control("pause --timeout 5s", &answer), 0) << answer.dump() << proxy.log();
    pauses.emplace_back(asked, answer["waited_ms"].get<long long>());
    ASSERT_EQ(proxy.Control(std::string("switch --to ") + (cycle % 2 ? "blue" : "green"), &answer),
              0)
        << answer.dump();
    ASSERT_EQ(proxy.Control("resume", &answer), 0) << answer.dump();
    std::this_thread::sleep_for(Ms(30));
  }
  writers.Stop();
  EXPECT_EQ(writers.failed.load(), 0) << writers.last_error();
  EXPECT_GT(writers.done.load(), 800);
  // Every acknowledged commit is a row, in one target or the other, and nothing else is.
  EXPECT_EQ(Rows(targets.blue) + Rows(targets.green), writers.done.load());
  EXPECT_GT(Rows(targets.green), 0);
  // A pause waits for the transactions running when it was asked for, and not much longer.
  long long worst_excess = -1000000;
  for (std::size_t cycle = 0; cycle < pauses.size(); ++cycle) {
    auto [asked, waited] = pauses[cycle];
    long long longest = LongestRunningAt(spans, asked);
    worst_excess = std::max(worst_excess, waited - longest);
    EXPECT_LE(waited, longest + 100) << "cycle " << cycle << ": waited " << waited
                                     << " ms for transactions of at most " << longest << " ms";
  }
  std::cout << "transactions " << writers.done.load() << ", worst pause beyond the longest "
            << "transaction running when it began " << worst_excess << " ms\n";
}

TEST(ProxyPauseSwitch, SwitchMovesIdleClients) {
  TwoTargets targets;
  ProxyProcess proxy(targets.Args());
  pg::Connection idle = testing::Connect(proxy.ConnInfo("app"));
  std::string blue_name = testing::Connect(targets.blue).Database();
  std::string green_name = testing::Connect(targets.green).Database();
  EXPECT_EQ(idle.Exec("SELECT current_database()").Text(0, 0), blue_name);
  ASSERT_EQ(proxy.Control("pause"), 0);
  ASSERT_EQ(proxy.Control("switch --to green"), 0);
  ASSERT_EQ(proxy.Control("resume"), 0);
  // The idle client let go of blue at the switch: blue ending every session now (as a retired
  // server does) reaches it no more (pgbouncer#1311 leaves such clients on the old server).
  testing::Connect(targets.blue)
      .Exec(
          "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
          "WHERE datname = current_database() AND pid <> pg_backend_pid()");
  std::this_thread::sleep_for(Ms(300));
  // The client that sat idle through the switch runs its next transaction on green, and so does
  // a new client.
  EXPECT_EQ(idle.Exec("SELECT current_database()").Text(0, 0), green_name);
  EXPECT_EQ(testing::Connect(proxy.ConnInfo("app")).Exec("SELECT current_database()").Text(0, 0),
            green_name);
  nlohmann::json status;
  ASSERT_EQ(proxy.Control("status", &status), 0);
  EXPECT_EQ(status["default"], "green");
  EXPECT_FALSE(status["paused"].get<bool>());
}

// WARM before a pause opens the new target's server connections (as many as the current target
// holds), so the clients a SWITCH moves find their logins done: no new server session is opened
// on green by the switch itself.
TEST(ProxyPauseSwitch, WarmFillsTheNewTarget) {
  TwoTargets targets;
  ProxyProcess proxy(targets.Args());
  std::vector<pg::Connection> clients;
  for (int i = 0; i < 4; ++i) {
    clients.push_back(testing::Connect(proxy.ConnInfo("app")));
    clients.back().Exec("SELECT 1");
  }
  nlohmann::json answer;
  ASSERT_EQ(proxy.Control("warm --to green", &answer), 0) << proxy.log();
  EXPECT_EQ(answer["opened"], 4) << answer.dump();
  auto green_sessions = [&] {
    return testing::Connect(targets.green)
        .Exec(
            "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() AND pid "
            "<> pg_backend_pid()")
        .Int(0, 0);
  };
  EXPECT_EQ(green_sessions(), 4);
  ASSERT_EQ(proxy.Control("warm --to green", &answer), 0);
  EXPECT_EQ(answer["opened"], 0) << "a second warm finds the pool full: " << answer.dump();
  ASSERT_EQ(proxy.Control("pause"), 0);
  ASSERT_EQ(proxy.Control("switch --to green"), 0);
  ASSERT_EQ(proxy.Control("resume"), 0);
  std::string green_name = testing::Connect(targets.green).Database();
  for (auto& client : clients) {
    EXPECT_EQ(client.Exec("SELECT current_database()").Text(0, 0), green_name);
  }
  EXPECT_EQ(green_sessions(), 4) << "the moved clients used the warmed connections";
  EXPECT_EQ(proxy.Control("warm --to nowhere", &answer), 1);
  EXPECT_NE(answer.value("error", std::string()).find("no target named \"nowhere\""),
            std::string::npos)
      << answer.dump();
}

TEST(ProxyPauseSwitch, APauseNobodyEndsResumesAfterMaxHold) {
  TwoTargets targets;
  auto args = targets.Args();
  args.insert(args.end(), {"--max-hold", "1s"});
  ProxyProcess proxy(args);
  pg::Connection client = testing::Connect(proxy.ConnInfo("app"));
  ASSERT_EQ(proxy.Control("pause"), 0);
  // The operator never says resume: the held statement runs once --max-hold has passed.
  auto begun = std::chrono::steady_clock::now();
  EXPECT_EQ(client.Exec("SELECT 1").Int(0, 0), 1);
  auto held = std::chrono::steady_clock::now() - begun;
  EXPECT_GE(held, Ms(800));
  EXPECT_LT(held, Ms(3000));
  nlohmann::json status;
  ASSERT_EQ(proxy.Control("status", &status), 0);
  EXPECT_FALSE(status["paused"].get<bool>());
  EXPECT_NE(proxy.log().find("paused longer than --max-hold"), std::string::npos) << proxy.log();
}

// PAUSE and RESUME from two operators at once, in every order, while clients run transactions
// of up to 80 ms: every command answers within a few of them (a PAUSE when the running ones end
// or a RESUME comes, never at its 30 s timeout), and afterwards the proxy runs and nothing failed.
TEST(ProxyPauseSwitch, RacingPausesAndResumesAllAnswer) {
  TwoTargets targets;
  ProxyProcess proxy(targets.Args());
  testing::Writers writers(proxy.ConnInfo("app"), 4,
                           [](pg::Connection& conn, int client, std::uint64_t n) {
                             conn.Run("BEGIN");
                             conn.Exec("INSERT INTO writes VALUES ($1, $2, 'x')",
                                       {std::to_string(client), std::to_string(n)});
                             conn.Run("SELECT pg_sleep(" + std::to_string((n % 5) * 0.02) + ")");
                             conn.Run("COMMIT");
                           });
  auto operator_thread = [&proxy](const std::string& command) {
    return std::async(std::launch::async, [&proxy, command] {
      long long slowest = 0;
      for (int i = 0; i < 40; ++i) {
        auto begun = std::chrono::steady_clock::now();
        proxy.Control(command);
        slowest = std::max<long long>(
            slowest,
            std::chrono::duration_cast<Ms>(std::chrono::steady_clock::now() - begun).count());
      }
      return slowest;
    });
  };
  auto pauses = operator_thread("pause --timeout 30s");
  auto resumes = operator_thread("resume");
  ASSERT_EQ(pauses.wait_for(std::chrono::seconds(60)), std::future_status::ready) << proxy.log();
  ASSERT_EQ(resumes.wait_for(std::chrono::seconds(60)), std::future_status::ready) << proxy.log();
  EXPECT_LT(pauses.get(), 2000);
  EXPECT_LT(resumes.get(), 2000);
  ASSERT_EQ(proxy.Control("resume"), 0);
  nlohmann::json status;
  ASSERT_EQ(proxy.Control("status", &status), 0);
  EXPECT_FALSE(status["paused"].get<bool>());
  EXPECT_EQ(status["held"].get<int>(), 0);
  int before = writers.done.load();
  std::this_thread::sleep_for(Ms(500));
  EXPECT_GT(writers.done.load(), before) << "clients go on after the last resume";
  writers.Stop();
  EXPECT_EQ(writers.failed.load(), 0) << writers.last_error();
  EXPECT_EQ(Rows(targets.blue), writers.done.load());
}

TEST(ProxyPauseSwitch, ConcurrentResumeNeverHangsAPause) {
  TwoTargets targets;
  ProxyProcess proxy(targets.Args());
  pg::Connection blocker = testing::Connect(proxy.ConnInfo("app"));
  blocker.Run("BEGIN");
  blocker.Exec("INSERT INTO writes VALUES (1, 1, 'x')");
  auto begun = std::chrono::steady_clock::now();
  auto pause = std::async(std::launch::async, [&] {
    nlohmann::json answer;
    int rc = proxy.Control("pause --timeout 60s", &answer);
    return std::make_pair(rc, answer);
  });
  // The pause is in effect once the proxy says so (the command's own start can take a while).
  ASSERT_TRUE(proxy.WaitForLog("PAUSE: holding new transactions")) << proxy.log();
  // Meanwhile a new client is held.
  auto held = std::async(std::launch::async, [&] {
    return testing::Connect(proxy.ConnInfo("app")).Exec("SELECT 1").Int(0, 0);
  });
  EXPECT_EQ(held.wait_for(Ms(300)), std::future_status::timeout);
  nlohmann::json answer;
  ASSERT_EQ(proxy.Control("resume", &answer), 0) << answer.dump();
  ASSERT_EQ(pause.wait_for(Ms(3000)), std::future_status::ready) << proxy.log();
  auto [rc, pause_answer] = pause.get();
  EXPECT_EQ(rc, 1);
  EXPECT_NE(pause_answer.dump().find("RESUME came before"), std::string::npos)
      << pause_answer.dump();
  EXPECT_LT(std::chrono::steady_clock::now() - begun, std::chrono::seconds(5));
  ASSERT_EQ(held.wait_for(Ms(3000)), std::future_status::ready);
  EXPECT_EQ(held.get(), 1);
  blocker.Run("COMMIT");
  EXPECT_EQ(Rows(targets.blue), 1);
}

TEST(ProxyPauseSwitch, APauseThatCannotDrainResumesOrCancelsTheBlockers) {
  TwoTargets targets;
  ProxyProcess proxy(targets.Args());
  pg::Connection idle_in_transaction = testing::Connect(proxy.ConnInfo("app"));
  idle_in_transaction.Run("BEGIN");
  idle_in_transaction.Exec("INSERT INTO writes VALUES (1, 1, 'x')");
  pg::Connection sleeper = testing::Connect(proxy.ConnInfo("app"));
  auto sleeping =
      std::async(std::launch::async, [&] { return sleeper.TryExec("SELECT pg_sleep(30)").ok(); });
  std::this_thread::sleep_for(Ms(200));

  nlohmann::json answer;
  EXPECT_EQ(proxy.Control("pause --timeout 300ms", &answer), 1);
  EXPECT_NE(answer.dump().find("still ran after"), std::string::npos) << answer.dump();
  ASSERT_EQ(proxy.Control("status", &answer), 0);
  EXPECT_FALSE(answer["paused"].get<bool>()) << "a pause that timed out resumes by itself";

  auto begun = std::chrono::steady_clock::now();
  ASSERT_EQ(proxy.Control("pause --timeout 300ms --cancel-blockers", &answer), 0)
      << answer.dump() << proxy.log();
  EXPECT_EQ(answer["cancelled"].get<int>(), 2);
  EXPECT_LT(std::chrono::steady_clock::now() - begun, std::chrono::seconds(3));
  EXPECT_FALSE(sleeping.get()) << "the running statement was cancelled";
  ASSERT_EQ(proxy.Control("resume"), 0);
  auto ended = idle_in_transaction.TryExec("COMMIT");
  ASSERT_FALSE(ended.ok());
  EXPECT_NE(ended.error().message().find("--cancel-blockers"), std::string::npos)
      << ended.error().message();
  EXPECT_EQ(Rows(targets.blue), 0);
}

}  // namespace
}  // namespace zerodown
