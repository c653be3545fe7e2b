#include "zerodown/proxy/config_file.hpp"

#include <fmt/format.h>
#include <yaml-cpp/yaml.h>

#include <algorithm>
#include <cctype>
#include <fstream>
#include <functional>
#include <set>
#include <sstream>

namespace zerodown::proxy {
namespace {

// Where a value sits in the file, for the error that names it.
struct Place {
  const std::string& source;
  int line;  // 1-based
  std::string key;

  Error Fail(std::string_view what, std::string fix) const {
    return Error(ErrorKind::kUsage,
                 fmt::format("proxy config {}, line {}: `{}` {}", source, line, key, what),
                 std::move(fix));
  }
};

Result<std::string> Text(const Place& at, const YAML::Node& value, std::string_view example) {
  if (!value.IsScalar() || value.Scalar().empty()) {
    std::string what = value.IsNull() || value.IsScalar() ? "has no value" : "is not a string";
    return at.Fail(what, fmt::format("Write e.g. `{}: {}`.", at.key, example));
  }
  return value.Scalar();
}

Result<int> Count(const Place& at, const YAML::Node& value, int low, int high) {
  auto text = Text(at, value, std::to_string(low * 20));
  if (!text) return text.error();
  const std::string& s = *text;
  bool digits = s.size() <= 9 && std::all_of(s.begin(), s.end(),
                                             [](unsigned char c) { return std::isdigit(c) != 0; });
  int n = digits ? std::stoi(s) : 0;
  if (!digits || n < low || n > high) {
    return at.Fail(fmt::format("is \"{}\", not a whole number from {} to {}", s, low, high),
                   fmt::format("Write e.g. `{}: {}`.", at.key, low * 20));
  }
  return n;
}

Result<std::chrono::milliseconds> Duration(const Place& at, const YAML::Node& value) {
  auto text = Text(at, value, "10s");
  if (!text) return text.error();
  auto parsed = ParseDuration(*text, at.key);
  if (!parsed)
    return at.Fail(fmt::format("is \"{}\", not a duration", *text), parsed.error().fix());
  return *parsed;
}

Result<std::vector<Target>> Targets(const Place& at, const YAML::Node& value) {
  constexpr std::string_view kFix =
      "Write one line per target under `targets:`, its name then its URL, e.g.\n"
      "targets:\n  blue: postgresql://app@db1/shop\n  green: postgresql://app@db2/shop";
  if (!value.IsMap() || value.size() == 0) {
    return at.Fail("is not a map of target names to URLs", std::string(kFix));
  }
  std::vector<Target> targets;
  for (const auto& entry : value) {
    Place target{at.source, entry.first.Mark().line + 1,
                 "targets." + (entry.first.IsScalar() ? entry.first.Scalar() : "?")};
    if (!entry.first.IsScalar() || entry.first.Scalar().empty()) {
      return target.Fail("is not a target name", std::string(kFix));
    }
    if (!entry.second.IsScalar() || entry.second.Scalar().empty()) {
      return target.Fail("has no URL", fmt::format("Give it the URL the proxy logs in with, e.g. "
                                                   "`{}: postgresql://app@localhost/shop`.",
                                                   entry.first.Scalar()));
    }
    targets.push_back(Target{entry.first.Scalar(), entry.second.Scalar()});
  }
  return targets;
}

// `route-flag: NAME` or a list of names, in the order that decides which wins.
Status RouteFlags(const Place& at, const YAML::Node& value, ProxyConfig& config) {
  if (!value.IsSequence()) {
    auto flag = Text(at, value, "new_balance");
    if (!flag) return flag.error();
    config.route_flags = {*flag};
    return Status::Ok();
  }
  for (const auto& item : value) {
    auto flag = Text(at, item, "[new_balance, new_orders]");
    if (!flag) return flag.error();
    config.route_flags.push_back(*flag);
  }
  return Status::Ok();
}

// Reads `value` into its field of `config`.
using KeyReader = std::function<Status(const Place&, const YAML::Node&, ProxyConfig&)>;

template <typename T, typename Parse>
KeyReader Into(std::optional<T> ProxyConfig::*field, Parse parse) {
  return [field, parse](const Place& at, const YAML::Node& value, ProxyConfig& config) -> Status {
    Result<T> parsed = parse(at, value);
    if (!parsed) return parsed.error();
    config.*field = std::move(parsed).ValueOrThrow();
    return Status::Ok();
  };
}

KeyReader TextInto(std::optional<std::string> ProxyConfig::*field, std::string example) {
  return Into(field, [example](const Place& at, const YAML::Node& value) {
    return Text(at, value, example);
  });
}

const std::vector<std::pair<std::string, KeyReader>>& Keys() {
  static const std::vector<std::pair<std::string, KeyReader>> keys = {
      {"listen", TextInto(&ProxyConfig::listen, "127.0.0.1:6432")},
      {"admin", TextInto(&ProxyConfig::admin, "127.0.0.1:6433")},
      {"targets",
       [](const Place& at, const YAML::Node& value, ProxyConfig& config) -> Status {
         auto targets = Targets(at, value);
         if (!targets) return targets.error();
         config.targets = *targets;
         return Status::Ok();
       }},
      {"default", TextInto(&ProxyConfig::default_target, "blue")},
      {"pool-mode", Into(&ProxyConfig::pool_mode,
                         [](const Place& at, const YAML::Node& value) -> Result<PoolMode> {
                           auto text = Text(at, value, "transaction");
                           if (!text) return text.error();
                           auto mode = ParsePoolMode(*text);
                           if (mode) return mode;
                           return at.Fail(fmt::format("is \"{}\", not a pool mode", *text),
                                          "Write `pool-mode: session` or `pool-mode: "
                                          "transaction`.");
                         })},
      {"max-server-connections",
       Into(&ProxyConfig::max_server_connections,
            [](const Place& at, const YAML::Node& value) { return Count(at, value, 1, 10000); })},
      {"pause-timeout", Into(&ProxyConfig::pause_timeout, Duration)},
      {"max-hold", Into(&ProxyConfig::max_hold, Duration)},
      {"server-wait-timeout", Into(&ProxyConfig::server_wait_timeout, Duration)},
      {"login-timeout", Into(&ProxyConfig::login_timeout, Duration)},
      {"route-flag", RouteFlags},
      {"metrics-addr", TextInto(&ProxyConfig::metrics_addr, "127.0.0.1:9187")},
      {"auth-file", TextInto(&ProxyConfig::auth_file, "/etc/zerodown/userlist.txt")},
      {"read-share", Into(&ProxyConfig::read_share,
                          [](const Place& at, const YAML::Node& value) -> Result<ReadShare> {
                            auto text = Text(at, value, "green=50");
                            if (!text) return text.error();
                            auto share = ParseReadShare(*text);
                            if (share) return share;
                            return at.Fail(fmt::format("is \"{}\", not TARGET=PERCENT with a "
                                                       "whole percentage from 0 to 100",
                                                       *text),
                                           "Write e.g. `read-share: green=50`.");
                          })},
  };
  return keys;
}

// The fix for an unknown key: the key it was probably meant to be, else every key.
std::string UnknownKeyFix(const std::string& key) {
  std::string near = key;
  near.erase(0, near.find_first_not_of('-'));
  std::transform(near.begin(), near.end(), near.begin(), [](unsigned char c) {
    return c == '_' ? '-' : static_cast<char>(std::tolower(c));
  });
  if (near == "target") near = "targets";
  std::vector<std::string> names;
  for (const auto& [name, reader] : Keys()) {
    if (name == near) return fmt::format("Did you mean `{}`?", name);
    names.push_back(name);
  }
  return fmt::format("The keys are: {} (the proxy's flags, without their dashes).",
                     fmt::join(names, ", "));
}

Status CheckDefault(const std::string& source, const YAML::Node& root, const ProxyConfig& config) {
  if (!config.default_target || config.targets.empty()) return Status::Ok();
  std::vector<std::string> names;
  for (const auto& target : config.targets) {
    if (target.name == *config.default_target) return Status::Ok();
    names.push_back(target.name);
  }
  int line = 0;
  for (const auto& entry : root) {
    if (entry.first.Scalar() == "default") line = entry.first.Mark().line + 1;
  }
  return Place{source, line, "default"}.Fail(
      fmt::format("is \"{}\", which is not one of the file's targets ({})", *config.default_target,
                  fmt::join(names, ", ")),
      "Name one of the targets under `targets:`, or add that target there.");
}

}  // namespace

Result<ProxyConfig> ParseProxyConfig(std::string_view text, const std::string& source) {
  YAML::Node root;
  try {
    root = YAML::Load(std::string(text));
  } catch (const YAML::Exception& e) {
    return Error(ErrorKind::kUsage,
                 fmt::format("proxy config {}, line {}: YAML syntax error: {}", source,
                             e.mark.line + 1, e.msg),
                 "Fix the YAML at that line (indentation, colons, quotes).");
  }
  if (!root.IsMap()) {
    return Error(ErrorKind::kUsage, fmt::format("proxy config {} is not a map of settings", source),
                 "Write one `key: value` per line, e.g. `listen: 127.0.0.1:6432` and a "
                 "`targets:` map (docs/proxy.md, \"Config file\").");
  }
  ProxyConfig config;
  std::set<std::string> seen;
  for (const auto& entry : root) {
    std::string key = entry.first.IsScalar() ? entry.first.Scalar() : "?";
    Place at{source, entry.first.Mark().line + 1, key};
    if (!seen.insert(key).second) return at.Fail("appears twice", "Keep one of them.");
    const auto& keys = Keys();
    auto reader = std::find_if(keys.begin(), keys.end(),
                               [&key](const auto& known) { return known.first == key; });
    if (reader == keys.end()) return at.Fail("is not a setting", UnknownKeyFix(key));
    if (Status read = reader->second(at, entry.second, config); !read) return read.error();
  }
  if (Status checked = CheckDefault(source, root, config); !checked) return checked.error();
  return config;
}

Result<ProxyConfig> ReadProxyConfig(const std::string& path) {
  std::ifstream in(path);
  std::stringstream text;
  if (in.is_open()) text << in.rdbuf();
  if (!in.is_open() || in.bad()) {
    return Error(ErrorKind::kUsage, fmt::format("cannot read proxy config {}", path),
                 "Give --config the path of a YAML file (docs/proxy.md, \"Config file\").");
  }
  return ParseProxyConfig(text.str(), path);
}

void ApplyConfig(const ProxyConfig& config, ProxyOptions* options) {
  if (config.listen) options->listen = *config.listen;
  if (config.admin) options->admin = *config.admin;
  if (!config.targets.empty()) options->targets = config.targets;
  if (config.default_target) options->default_target = *config.default_target;
  if (config.pool_mode) options->pool_mode = *config.pool_mode;
  if (config.max_server_connections) {
    options->max_server_connections = *config.max_server_connections;
  }
  if (config.pause_timeout) options->pause_timeout = *config.pause_timeout;
  if (config.max_hold) options->max_hold = *config.max_hold;
  if (config.server_wait_timeout) options->server_wait_timeout = *config.server_wait_timeout;
  if (config.login_timeout) options->login_timeout = *config.login_timeout;
  if (!config.route_flags.empty()) options->route_flags = config.route_flags;
  if (config.metrics_addr) options->metrics_addr = *config.metrics_addr;
  if (config.auth_file) options->auth_file = *config.auth_file;
  if (config.read_share) options->read_share = *config.read_share;
}

}  // namespace zerodown::proxy
