// zerodown proxy with several --route-flag: a transaction runs on the version of the first flag
// (in the order given) whose rollout includes its user, else with the client's own search_path.
// Two flags name two versions of one schema, `holdback` (v_hold, 30%) before `new_balance` (v_new,
// 60%): each of 300 users sees exactly the version that rule gives, the later flag counts the
// transactions the earlier one took, and a flag named twice is refused before the proxy listens.
#include <fmt/format.h>
#include <gtest/gtest.h>

#include <map>

#include "support/database.hpp"
#include "support/http.hpp"
#include "support/proxy.hpp"
#include "zerodown/flags/store.hpp"

namespace zerodown {
namespace {

using testing::ProxyProcess;
using testing::Quoted;

constexpr int kUsers = 300;

void SetFlag(const std::string& db, const std::string& flag, int percent,
             const std::string& version) {
  std::string out;
  ASSERT_EQ(testing::RunZerodown(fmt::format("--postgres-url {} flag set {} --rollout {}% "
                                             "--version {}",
                                             Quoted(db), flag, percent, version),
                                 &out),
            0)
      << out;
}

std::string ThreeVersions() {
  std::string db = testing::FreshDatabase();
  pg::Connection conn = testing::Connect(db);
  for (std::string v : {"v_old", "v_hold", "v_new"}) {
    conn.Run(
        fmt::format("CREATE SCHEMA {0}; CREATE FUNCTION {0}.whoami() RETURNS text "
                    "LANGUAGE sql AS $$ SELECT '{0}' $$",
                    v));
  }
  SetFlag(db, "holdback", 30, "v_hold");
  SetFlag(db, "new_balance", 60, "v_new");
  return db;
}

std::string Expected(const std::string& user) {
  if (flags::Enabled({true, 3000, "v_hold"}, "holdback", user)) return "v_hold";
  if (flags::Enabled({true, 6000, "v_new"}, "new_balance", user)) return "v_new";
  return "v_old";
}

TEST(ProxyRouteFlags, TheFirstFlagThatIncludesAUserWins) {
  std::string db = ThreeVersions();
  int metrics_port = testing::FreePort();
  ProxyProcess proxy({"--target", "shop=" + db, "--pool-mode", "transaction", "--route-flag",
                      "holdback", "--route-flag", "new_balance", "--metrics-addr",
                      "127.0.0.1:" + std::to_string(metrics_port)});
  pg::Connection conn =
      testing::Connect(proxy.ConnInfo("shop") + " options='-c search_path=v_old'");
  std::map<std::string, int> seen;
  int wrong = 0;
  for (int i = 0; i < kUsers; ++i) {
    std::string user = "user" + std::to_string(i);
    // The SET in the same Query routes that Query's own transaction.
    auto rows = conn.Run(fmt::format("SET zerodown.user_id = '{}'; SELECT whoami()", user));
    std::string got = rows.Text(0, 0);
    ++seen[got];
    if (got != Expected(user) && ++wrong <= 5) {
      ADD_FAILURE() << user << " ran on " << got << ", expected " << Expected(user);
    }
  }
  EXPECT_EQ(wrong, 0) << proxy.log();
  // All three outcomes happen: held back, rolled out, neither.
  EXPECT_GT(seen["v_hold"], 40);
  EXPECT_GT(seen["v_new"], 60);
  EXPECT_GT(seen["v_old"], 40);

  std::string body = testing::HttpGet(metrics_port, "/metrics");
  auto value = [&body](const std::string& series) {
    auto at = body.find("\n" + series + " ");
    return at == std::string::npos ? -1 : std::stoi(body.substr(at + series.size() + 2));
  };
  EXPECT_EQ(
      value(R"(zerodown_proxy_route_decisions_total{flag="new_balance",outcome="earlier_flag"})"),
      seen["v_hold"])
      << body;
  EXPECT_EQ(
      value(
          R"(zerodown_proxy_route_decisions_total{flag="new_balance",outcome="version",version="v_new"})"),
      seen["v_new"]);
  nlohmann::json status;
  ASSERT_EQ(proxy.Control("status", &status), 0);
  ASSERT_EQ(status["routes"].size(), 2u) << status.dump();
  EXPECT_EQ(status["routes"][1]["flag"], "new_balance");
  EXPECT_EQ(status["route"], status["routes"][0]);
}

TEST(ProxyRouteFlags, AFlagNamedTwiceIsRefused) {
  std::string db = ThreeVersions();
  std::string out;
  EXPECT_EQ(testing::RunZerodown(fmt::format("proxy --listen 127.0.0.1:{} --target shop={} "
                                             "--route-flag holdback --route-flag holdback",
                                             testing::FreePort(), Quoted(db)),
                                 &out),
            2);
  EXPECT_NE(out.find("--route-flag \"holdback\" is given twice"), std::string::npos) << out;
}

}  // namespace
}  // namespace zerodown
