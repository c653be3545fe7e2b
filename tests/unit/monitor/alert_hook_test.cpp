#include "zerodown/monitor/alert_hook.hpp"

#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <sstream>

namespace zerodown::monitor {
namespace {

TEST(AlertHook, RunsTheCommandWithTheVerdictInItsEnvironment) {
  std::string out = ::testing::TempDir() + "zerodown_alert_" + std::to_string(getpid());
  std::filesystem::remove(out);
  HealthVerdict v;
  v.state = HealthState::kAlert;
  CheckResult c;
  c.check = "error_rate";
  c.state = HealthState::kAlert;
  c.message = "error rate 2.0% > 1%";
  v.checks.push_back(c);
  {
    AlertHook hook(
        "echo \"$ZERODOWN_HEALTH_STATE|$ZERODOWN_HEALTH_CHECKS|$ZERODOWN_HEALTH_MESSAGE\" > " +
        out);
    ASSERT_TRUE(hook.enabled());
    hook.Fire(v);
    hook.Wait();
  }
  std::ifstream in(out);
  std::stringstream text;
  text << in.rdbuf();
  EXPECT_EQ(text.str(), "alert|error_rate|error rate 2.0% > 1%\n");
  std::filesystem::remove(out);
}

TEST(AlertHook, DisabledDoesNothing) {
  AlertHook hook;
  EXPECT_FALSE(hook.enabled());
  hook.Fire(HealthVerdict{});
}

}  // namespace
}  // namespace zerodown::monitor
