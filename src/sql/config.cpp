#include "zerodown/sql/config.hpp"

#include <yaml-cpp/yaml.h>

#include <fstream>
#include <sstream>

namespace zerodown::sql {
namespace {

Error ConfigError(const std::string& path, const std::string& message) {
  return Error(ErrorKind::kUsage, message,
               "the file takes pg-version: N, fail-on: error|warning|info and exclude: [rule-id, "
               "...]; `zerodown lint --list-rules` lists the rule ids")
      .WithWhere(path);
}

}  // namespace

Result<LintConfig> ParseLintConfig(const std::string& yaml, const std::string& path) {
  LintConfig config;
  YAML::Node root;
  try {
    root = YAML::Load(yaml);
  } catch (const YAML::Exception& e) {
    return ConfigError(path + ":" + std::to_string(e.mark.line + 1), e.msg);
  }
  if (root.IsNull()) return config;
  if (!root.IsMap()) return ConfigError(path, "the lint configuration must be a mapping");
  try {
    for (const auto& entry : root) {
      const std::string key = entry.first.as<std::string>();
      const YAML::Node& value = entry.second;
      if (key == "pg-version") {
        const int version = value.as<int>();
        if (version < 9 || version > 17) {
          return ConfigError(path, "pg-version " + std::to_string(version) +
                                       " is not a PostgreSQL major version zerodown knows "
                                       "(9 to 17)");
        }
        config.pg_version = version;
      } else if (key == "fail-on") {
        auto severity = ParseSeverity(value.as<std::string>());
        if (!severity) {
          return ConfigError(path, "fail-on must be error, warning or info, not '" +
                                       value.as<std::string>() + "'");
        }
        config.fail_on = severity;
      } else if (key == "exclude") {
        if (!value.IsSequence()) return ConfigError(path, "exclude must be a list of rule ids");
        for (const auto& item : value) {
          const std::string id = item.as<std::string>();
          if (!IsKnownRule(id)) return ConfigError(path, "exclude names unknown rule '" + id + "'");
          config.exclude.insert(id);
        }
      } else {
        return ConfigError(path, "unknown key '" + key + "'");
      }
    }
  } catch (const YAML::Exception& e) {
    return ConfigError(path, "bad value: " + e.msg);
  }
  return config;
}

Result<LintConfig> LoadLintConfig(const std::string& path) {
  std::ifstream in(path);
  if (!in) {
    return Error(ErrorKind::kNotFound, "cannot read lint configuration " + path,
                 "check the --config path");
  }
  std::ostringstream buffer;
  buffer << in.rdbuf();
  return ParseLintConfig(buffer.str(), path);
}

}  // namespace zerodown::sql
