// What the two files of `zerodown flag` share: how a flag's state reads, and the subcommands
// that only read (eval, history) or install, registered by flag_command.cpp.
#pragma once

#include <nlohmann/json.hpp>
#include <string>

#include "cli/command.hpp"
#include "zerodown/flags/store.hpp"

namespace zerodown::cli {

// "off", "on for 10% of users (buckets 0-999), version "public_004"".
std::string DescribeFlagState(const flags::FlagState& state);
// {"enabled", "rollout_bp", "rollout", "version"}.
nlohmann::json FlagStateJson(const flags::FlagState& state);

void AddFlagEval(CLI::App* flag, GlobalOptions& global);
void AddFlagHistory(CLI::App* flag, GlobalOptions& global);
void AddFlagInstall(CLI::App* flag, GlobalOptions& global);

}  // namespace zerodown::cli
