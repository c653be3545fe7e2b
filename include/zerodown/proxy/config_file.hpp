// `zerodown proxy --config FILE`: a YAML file that says what the proxy's flags say (docs/proxy.md,
// "Config file"). This reads and checks the file and lays it over ProxyOptions; the command line
// goes on top (the CLI does that). It reaches no server: a flag or target that does not exist on
// the server is found when the proxy starts, as with flags.
#pragma once

#include <chrono>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "zerodown/common/error.hpp"
#include "zerodown/proxy/proxy.hpp"

namespace zerodown::proxy {

// What a file says; a field the file leaves out is empty.
struct ProxyConfig {
  std::optional<std::string> listen;
  std::optional<std::string> admin;
  std::vector<Target> targets;  // `targets:` NAME: URL, in the file's order
  std::optional<std::string> default_target;
  std::optional<PoolMode> pool_mode;
  std::optional<int> max_server_connections;
  std::optional<std::chrono::milliseconds> pause_timeout;
  std::optional<std::chrono::milliseconds> max_hold;
  std::optional<std::chrono::milliseconds> server_wait_timeout;
  std::optional<std::chrono::milliseconds> login_timeout;
  std::vector<std::string> route_flags;
  std::optional<std::string> metrics_addr;
  std::optional<std::string> auth_file;
  std::optional<ReadShare> read_share;
};

// Reads the file at `path`. Fails with kUsage (exit 2) in one paragraph naming the file, the line,
// the key and the fix for: a file that cannot be read, YAML that does not parse, a top level that
// is not a map, an unknown key, a value of the wrong type, a target without a URL, a pool mode
// or duration that is not one, and a `default` that is not one of the file's targets.
Result<ProxyConfig> ReadProxyConfig(const std::string& path);
// The same for text already read; `source` names it in errors.
Result<ProxyConfig> ParseProxyConfig(std::string_view text, const std::string& source);

// Sets each field of `options` that `config` gives (the targets all at once), leaving the others.
void ApplyConfig(const ProxyConfig& config, ProxyOptions* options);

}  // namespace zerodown::proxy
