// The lint configuration file, `.zerodown-lint.yaml`:
//
//   pg-version: 12          # target server major version
//   fail-on: warning        # error | warning | info
//   exclude: [prefer-text]  # rule ids not to run
//
// Reading only; command-line flags override what it says (see MergeInto in the CLI).
#pragma once

#include <optional>
#include <set>
#include <string>

#include "zerodown/common/error.hpp"
#include "zerodown/sql/lint.hpp"

namespace zerodown::sql {

inline constexpr const char* kLintConfigFileName = ".zerodown-lint.yaml";

struct LintConfig {
  std::optional<int> pg_version;
  std::optional<Severity> fail_on;
  std::set<std::string> exclude;
};

// Parses the YAML text of a config file; `path` is for messages. An unknown key, a bad value or
// an unknown rule id is an Error of kind kUsage naming the file and the key.
Result<LintConfig> ParseLintConfig(const std::string& yaml, const std::string& path);

// Reads and parses `path`. A missing or unreadable file is kNotFound.
Result<LintConfig> LoadLintConfig(const std::string& path);

}  // namespace zerodown::sql
