// The proxy's --config file: a good file sets every option its flags set, and each bad file is
// refused in one paragraph that names the file, the line, the key and the fix.
#include "zerodown/proxy/config_file.hpp"

#include <gtest/gtest.h>

#include <fstream>

namespace zerodown::proxy {
namespace {

constexpr const char* kFull = R"(# every setting
listen: 127.0.0.1:7432
admin: 127.0.0.1:7433
targets:
  blue: postgresql://app@db1/shop
  green: host=db2 dbname=shop user=app
default: green
pool-mode: transaction
max-server-connections: 20
pause-timeout: 5s
max-hold: 2min
server-wait-timeout: 1500ms
route-flag: new_balance
metrics-addr: 127.0.0.1:9187
auth-file: /etc/zerodown/userlist.txt
read-share: blue=25
)";

TEST(ProxyConfigFile, AFullFileSetsEveryOption) {
  auto config = ParseProxyConfig(kFull, "proxy.yaml");
  ASSERT_TRUE(config.ok()) << config.error().message();
  ProxyOptions options;
  ApplyConfig(*config, &options);
  EXPECT_EQ(options.listen, "127.0.0.1:7432");
  EXPECT_EQ(options.admin, "127.0.0.1:7433");
  ASSERT_EQ(options.targets.size(), 2u);
  EXPECT_EQ(options.targets[0].name, "blue");
  EXPECT_EQ(options.targets[0].conninfo, "postgresql://app@db1/shop");
  EXPECT_EQ(options.targets[1].conninfo, "host=db2 dbname=shop user=app");
  EXPECT_EQ(options.default_target, "green");
  EXPECT_EQ(options.pool_mode, PoolMode::kTransaction);
  EXPECT_EQ(options.max_server_connections, 20);
  EXPECT_EQ(options.pause_timeout, std::chrono::seconds(5));
  EXPECT_EQ(options.max_hold, std::chrono::minutes(2));
  EXPECT_EQ(options.server_wait_timeout, std::chrono::milliseconds(1500));
  EXPECT_EQ(options.route_flags, std::vector<std::string>{"new_balance"});
  EXPECT_EQ(options.metrics_addr, "127.0.0.1:9187");
  EXPECT_EQ(options.auth_file, "/etc/zerodown/userlist.txt");
  EXPECT_EQ(options.read_share, (ReadShare{"blue", 25}));
}

TEST(ProxyConfigFile, RouteFlagsMayBeAList) {
  auto config = ParseProxyConfig("route-flag: [holdback, new_balance]\n", "p.yaml");
  ASSERT_TRUE(config.ok()) << config.error().message();
  EXPECT_EQ(config->route_flags, (std::vector<std::string>{"holdback", "new_balance"}));
  EXPECT_FALSE(ParseProxyConfig("route-flag: [a, [b]]\n", "p.yaml").ok());
}

TEST(ProxyConfigFile, WhatTheFileLeavesOutKeepsItsDefault) {
  auto config = ParseProxyConfig("targets:\n  shop: postgresql://localhost/shop\n", "p.yaml");
  ASSERT_TRUE(config.ok()) << config.error().message();
  ProxyOptions options;
  ApplyConfig(*config, &options);
  ProxyOptions defaults;
  EXPECT_EQ(options.listen, defaults.listen);
  EXPECT_EQ(options.pool_mode, defaults.pool_mode);
  EXPECT_EQ(options.pause_timeout, defaults.pause_timeout);
  EXPECT_EQ(options.targets.size(), 1u);
}

struct BadFile {
  const char* name;
  const char* text;
  std::vector<std::string> message;  // each must appear in the message
  const char* fix;                   // must appear in the fix
};

class ProxyConfigFileRefuses : public ::testing::TestWithParam<BadFile> {};

TEST_P(ProxyConfigFileRefuses, NamingFileLineKeyAndFix) {
  const BadFile& bad = GetParam();
  auto config = ParseProxyConfig(bad.text, "conf/proxy.yaml");
  ASSERT_FALSE(config.ok()) << bad.name;
  EXPECT_EQ(config.error().kind(), ErrorKind::kUsage);
  EXPECT_EQ(ExitCode(config.error().kind()), 2);
  const std::string& message = config.error().message();
  EXPECT_NE(message.find("conf/proxy.yaml"), std::string::npos) << message;
  for (const auto& part : bad.message) {
    EXPECT_NE(message.find(part), std::string::npos) << "missing \"" << part << "\" in " << message;
  }
  EXPECT_NE(config.error().fix().find(bad.fix), std::string::npos) << config.error().fix();
}

INSTANTIATE_TEST_SUITE_P(
    BadFiles, ProxyConfigFileRefuses,
    ::testing::Values(
        BadFile{"UnknownKey",
                "listen: 127.0.0.1:1\npool_mode: session\n",
                {"line 2", "`pool_mode` is not a setting"},
                "Did you mean `pool-mode`?"},
        BadFile{"UnknownKeyListsTheKeys",
                "colour: blue\n",
                {"line 1", "`colour`"},
                "The keys are: listen, admin, targets"},
        BadFile{"SingularTarget",
                "target:\n  blue: postgresql://x/y\n",
                {"`target`"},
                "Did you mean `targets`?"},
        BadFile{"ListWhereAStringGoes",
                "listen: [a, b]\n",
                {"`listen` is not a string"},
                "listen: 127.0.0.1:6432"},
        BadFile{"EmptyValue", "admin:\n", {"`admin` has no value"}, "admin: 127.0.0.1:6433"},
        BadFile{"NumberThatIsNot",
                "max-server-connections: lots\n",
                {"`max-server-connections` is \"lots\", not a whole number from 1 to 10000"},
                "max-server-connections: 20"},
        BadFile{"NumberOutOfRange",
                "max-server-connections: 0\n",
                {"from 1 to 10000"},
                "max-server-connections: 20"},
        BadFile{"BadDuration",
                "pause-timeout: soon\n",
                {"`pause-timeout` is \"soon\""},
                "500ms, 10s or 2min"},
        BadFile{"BadPoolMode",
                "pool-mode: statement\n",
                {"\"statement\", not a pool mode"},
                "pool-mode: transaction"},
        BadFile{"TargetWithoutUrl",
                "targets:\n  blue: postgresql://x/y\n  green:\n",
                {"line 3", "`targets.green` has no URL"},
                "green: postgresql://"},
        BadFile{"TargetsNotAMap",
                "targets: blue=postgresql://x/y\n",
                {"`targets` is not a map"},
                "blue: postgresql://app@db1/shop"},
        BadFile{"UnknownDefault",
                "targets:\n  blue: postgresql://x/y\ndefault: green\n",
                {"line 3", "`default` is \"green\", which is not one of the file's targets (blue)"},
                "Name one of the targets"},
        BadFile{"BadReadShare",
                "read-share: green=half\n",
                {"line 1", "`read-share` is \"green=half\", not TARGET=PERCENT"},
                "read-share: green=50"},
        BadFile{"KeyTwice",
                "listen: a:1\nlisten: b:2\n",
                {"line 2", "`listen` appears twice"},
                "Keep one"},
        BadFile{"NotAMap", "- listen\n", {"is not a map of settings"}, "key: value"},
        BadFile{"BadYaml", "listen: [unclosed\n", {"YAML syntax error"}, "Fix the YAML"}),
    [](const ::testing::TestParamInfo<BadFile>& info) { return std::string(info.param.name); });

TEST(ProxyConfigFile, AMissingFileIsNamed) {
  auto config = ReadProxyConfig("/nonexistent/proxy.yaml");
  ASSERT_FALSE(config.ok());
  EXPECT_EQ(config.error().kind(), ErrorKind::kUsage);
  EXPECT_NE(config.error().message().find("/nonexistent/proxy.yaml"), std::string::npos);
}

TEST(ProxyConfigFile, ReadsAFile) {
  std::string path = ::testing::TempDir() + "/proxy_config_test.yaml";
  std::ofstream(path) << kFull;
  auto config = ReadProxyConfig(path);
  ASSERT_TRUE(config.ok()) << config.error().message();
  EXPECT_EQ(config->targets.size(), 2u);
}

}  // namespace
}  // namespace zerodown::proxy
