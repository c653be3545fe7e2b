// Promise: a switch does not pause traffic while a VACUUM, ANALYZE, index build or DDL on the
// serving side holds a lock the fence would wait for. The "maintenance" guardrail waits for it
// (up to --guardrail-wait) and refuses before anything changes; once it ends, the switch goes on.
#include <gtest/gtest.h>

#include <chrono>
#include <nlohmann/json.hpp>
#include <string>
#include <thread>

#include "support/bluegreen_pair.hpp"

namespace zerodown::testing {
namespace {

using namespace std::chrono_literals;

const std::string kHooks =
    " --pause-command true --switch-command true --resume-command true --step-timeout 3";
const std::string kFenceTriggers =
    "SELECT count(*) FROM pg_trigger WHERE tgname = 'zerodown_bluegreen_fence'";

TEST(BlueGreenMaintenanceGuardrail, ASwitchWaitsForAVacuumsLockBeforeThePause) {
  BlueGreenPair pair;
  ASSERT_NO_FATAL_FAILURE(pair.Create());
  pg::Connection maintenance = Connect(pair.blue);
  maintenance.Exec("BEGIN");
  // The lock VACUUM, ANALYZE and CREATE INDEX CONCURRENTLY take, here from a young transaction
  // that the long-transaction guardrail lets pass.
  maintenance.Exec("LOCK TABLE ledger IN SHARE UPDATE EXCLUSIVE MODE");

  int code = 0;
  std::string out;
  pair.Switch("--guardrail-wait 1" + kHooks, &code, &out);
  EXPECT_NE(code, 0) << out;
  EXPECT_NE(out.find("refused before it changed anything"), std::string::npos) << out;
  EXPECT_NE(out.find("maintenance"), std::string::npos) << out;
  EXPECT_NE(out.find("ShareUpdateExclusiveLock on ledger"), std::string::npos) << out;
  EXPECT_EQ(Count(pair.blue, kFenceTriggers), 0) << "blue was fenced";

  std::thread release([&] {
    std::this_thread::sleep_for(1500ms);
    maintenance.Exec("COMMIT");
  });
  auto report = pair.Switch("--guardrail-wait 20" + kHooks, &code, &out);
  release.join();
  ASSERT_EQ(code, 0) << out;
  ASSERT_TRUE(report.is_object() && report["switched"] == true) << out;
  EXPECT_NE(out.find("waiting for the guardrails"), std::string::npos)
      << "the switch waited for the lock before its pause: " << out;
  EXPECT_EQ(Count(pair.blue, kFenceTriggers), 2) << "blue (ledger and heartbeat) is fenced now";
}

}  // namespace
}  // namespace zerodown::testing
