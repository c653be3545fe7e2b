// zerodown proxy --config: a proxy whose targets, default, pooling and metrics address come from a
// YAML file serves clients, with the flags given on the command line overriding the file; a bad
// file stops it before it listens, with exit code 2 and a paragraph naming the file and the key.
#include <fmt/format.h>
#include <gtest/gtest.h>

#include <fstream>

#include "support/database.hpp"
#include "support/http.hpp"
#include "support/proxy.hpp"

namespace zerodown {
namespace {

using testing::FreePort;
using testing::ProxyProcess;

std::string WriteFile(const std::string& name, const std::string& text) {
  std::string path = ::testing::TempDir() + "/" + name;
  std::ofstream(path) << text;
  return path;
}

TEST(ProxyConfigFile, AProxyFromAFileServesAClient) {
  std::string blue = testing::FreshDatabase();
  testing::Connect(blue).Run("CREATE TABLE t(note text); INSERT INTO t VALUES ('blue')");
  int metrics_port = FreePort();
  std::string config = WriteFile("proxy_config_file.yaml", fmt::format(R"(
targets:
  blue: "{}"
  green: "postgresql://127.0.0.1:1/nowhere"
default: green
pool-mode: session
max-server-connections: 2
metrics-addr: 127.0.0.1:{}
)",
                                                                       blue, metrics_port));
  // The command line says transaction pooling and another default: both win over the file.
  ProxyProcess proxy({"--config", config, "--pool-mode", "transaction", "--default", "blue"});
  pg::Connection client = testing::Connect(proxy.ConnInfo("shop"));
  EXPECT_EQ(client.Exec("SELECT note FROM t").Text(0, 0), "blue") << proxy.log();
  nlohmann::json status;
  ASSERT_EQ(proxy.Control("status", &status), 0) << proxy.log();
  EXPECT_EQ(status["pool_mode"], "transaction") << status.dump();
  EXPECT_EQ(status["default"], "blue");
  EXPECT_EQ(status["targets"].size(), 2u);
  EXPECT_NE(testing::HttpGet(metrics_port, "/metrics")
                .find("zerodown_proxy_transactions_total{target=\"blue\"} 1"),
            std::string::npos)
      << proxy.log();
}

TEST(ProxyConfigFile, ABadFileStopsItBeforeItListens) {
  std::string config = WriteFile("proxy_config_bad.yaml", R"(
targets:
  blue: postgresql://127.0.0.1:1/nowhere
pool_mode: transaction
)");
  int port = FreePort();
  std::string out;
  int rc = testing::RunZerodown(
      fmt::format("proxy --config {} --listen 127.0.0.1:{}", testing::Quoted(config), port), &out);
  EXPECT_EQ(rc, 2) << out;
  EXPECT_NE(out.find(config + ", line 4: `pool_mode` is not a setting"), std::string::npos) << out;
  EXPECT_NE(out.find("Did you mean `pool-mode`?"), std::string::npos) << out;
  EXPECT_FALSE(testing::Listening(port));
}

}  // namespace
}  // namespace zerodown
