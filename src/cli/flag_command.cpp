// zerodown flag set|get|list|delete|eval|history|install: feature flags kept in the target
// database (flags/store.hpp), bucketed by the frozen function of flags/bucket.hpp.
#include "cli/flag_command.hpp"

#include <fmt/format.h>

#include <cstdlib>
#include <iostream>
#include <memory>
#include <nlohmann/json.hpp>

#include "cli/support.hpp"
#include "zerodown/flags/store.hpp"

namespace zerodown::cli {

using flags::Flag;
using flags::FlagState;

std::string DescribeFlagState(const FlagState& state) {
  std::string text;
  if (!state.enabled) {
    text = "off";
  } else if (state.rollout_bp >= flags::kFullRollout) {
    text = "on for every user (100%)";
  } else if (state.rollout_bp == 0) {
    text = "on for no user (0%)";
  } else {
    text = fmt::format("on for {} of users (buckets 0-{})", flags::FormatRollout(state.rollout_bp),
                       state.rollout_bp - 1);
  }
  if (state.version) text += fmt::format(", version \"{}\"", *state.version);
  return text;
}

nlohmann::json FlagStateJson(const FlagState& state) {
  return {{"enabled", state.enabled},
          {"rollout_bp", state.rollout_bp},
          {"rollout", flags::FormatRollout(state.rollout_bp)},
          {"version", state.version ? nlohmann::json(*state.version) : nlohmann::json()}};
}

namespace {

nlohmann::json FlagJson(const Flag& flag) {
  nlohmann::json json = FlagStateJson(flag.state);
  json["name"] = flag.name;
  json["updated_at"] = flag.updated_at;
  json["updated_by"] = flag.updated_by;
  return json;
}

// Who to record as asking, beside the database user: --by, else $USER.
std::string DefaultNote() {
  const char* user = std::getenv("USER");
  return user ? user : "";
}

Flag RequireFlag(pg::Connection& conn, const std::string& name) {
  std::optional<Flag> flag = flags::Get(conn, name);
  if (!flag) {
    throw Error(ErrorKind::kNotFound,
                fmt::format("there is no flag \"{}\" in database \"{}\"", name, conn.Database()),
                fmt::format("`zerodown flag list` shows the flags there are; `zerodown flag set "
                            "{} --rollout 1%` creates this one.",
                            name));
  }
  return *flag;
}

struct SetArgs {
  std::string name;
  std::string state;  // "on", "off" or ""
  std::string rollout;
  std::string version;
  bool no_version = false;
  std::string by = DefaultNote();
};

// The update the arguments ask for; kUsage before anything is read when they make no sense.
flags::FlagUpdate MakeUpdate(const SetArgs& args) {
  flags::CheckFlagName(args.name).ThrowIfError();
  flags::FlagUpdate update;
  if (!args.rollout.empty()) update.rollout_bp = flags::ParseRollout(args.rollout).ValueOrThrow();
  if (args.state == "on") {
    update.enabled = true;
    if (!update.rollout_bp) update.rollout_bp = flags::kFullRollout;
  } else if (args.state == "off") {
    update.enabled = false;
  } else if (update.rollout_bp) {
    update.enabled = true;
  }
  if (!args.version.empty()) update.version = args.version;
  update.clear_version = args.no_version;
  if (update.version && update.clear_version) {
    throw Error(ErrorKind::kUsage,
                fmt::format("flag \"{}\": --version and --no-version contradict", args.name),
                "Give one of them.");
  }
  if (!update.enabled && !update.rollout_bp && !update.version && !update.clear_version) {
    throw Error(ErrorKind::kUsage, fmt::format("flag \"{}\": nothing to set", args.name),
                fmt::format("Say on, off, --rollout P% or --version SCHEMA, e.g. `zerodown flag "
                            "set {} --rollout 10%`.",
                            args.name));
  }
  return update;
}

void AddSet(CLI::App* flag, GlobalOptions& global) {
  auto args = std::make_shared<SetArgs>();
  auto* cmd = flag->add_subcommand(
      "set",
      "Create or change a flag. `on` lets every user in (100%), `off` nobody; --rollout lets in "
      "the users whose bucket (0-9999, fixed per flag and user) is below P*100, so raising P only "
      "adds users and lowering it removes the last added first. --version names the version "
      "schema these users' sessions use (a proxy routes them to it). Every change is recorded "
      "(`flag history`) and announced on NOTIFY channel zerodown_flags.\n\nExamples:\n"
      "  zerodown flag set new_balance --rollout 1% --version public_004_balance\n"
      "  zerodown flag set new_balance --rollout 0.25%\n"
      "  zerodown flag set new_balance on\n  zerodown flag set new_balance off --by alice");
  cmd->add_option("name", args->name, "flag name: letters, digits, _ - .")->required();
  cmd->add_option("state", args->state, "on (every user) or off (no user)")
      ->check(CLI::IsMember({"on", "off"}));
  cmd->add_option("--rollout", args->rollout,
                  "share of users, 0% to 100% in steps of 0.01% (e.g. 10%, 0.25%)");
  cmd->add_option("--version", args->version, "version schema these users use (must exist)");
  cmd->add_flag("--no-version", args->no_version, "drop the flag's version");
  cmd->add_option("--by", args->by, "who asks, recorded beside the database user")
      ->default_str("$USER");
  cmd->callback([&global, args] {
    flags::FlagUpdate update = MakeUpdate(*args);
    pg::Connection conn = Connect(global);
    std::optional<Flag> before = flags::Get(conn, args->name);
    Flag flag = flags::Set(conn, args->name, update, args->by).ValueOrThrow();
    if (global.json) {
      std::cout << FlagJson(flag).dump() << "\n";
      return;
    }
    std::cout << fmt::format("flag \"{}\": {}", flag.name, DescribeFlagState(flag.state));
    if (before && before->state == flag.state) {
      std::cout << " (unchanged)\n";
    } else {
      std::cout << (before ? fmt::format(" (was {})\n", DescribeFlagState(before->state))
                           : " (new)\n");
    }
  });
}

void AddGet(CLI::App* flag, GlobalOptions& global) {
  auto name = std::make_shared<std::string>();
  auto* cmd = flag->add_subcommand(
      "get",
      "Show one flag: state, rollout, version, and who changed it last.\n\nExample:\n"
      "  zerodown flag get new_balance");
  cmd->add_option("name", *name, "flag name")->required();
  cmd->callback([&global, name] {
    pg::Connection conn = Connect(global);
    Flag flag = RequireFlag(conn, *name);
    if (global.json) {
      std::cout << FlagJson(flag).dump() << "\n";
      return;
    }
    std::cout << fmt::format("flag \"{}\": {}\nupdated {} by {}\n", flag.name,
                             DescribeFlagState(flag.state), flag.updated_at, flag.updated_by);
  });
}

void AddList(CLI::App* flag, GlobalOptions& global) {
  auto* cmd =
      flag->add_subcommand("list",
                           "List every flag of the database.\n\nExamples:\n  zerodown flag list\n"
                           "  zerodown flag list --json");
  cmd->callback([&global] {
    pg::Connection conn = Connect(global);
    std::vector<Flag> all = flags::List(conn);
    if (global.json) {
      nlohmann::json array = nlohmann::json::array();
      for (const auto& f : all) array.push_back(FlagJson(f));
      std::cout << array.dump() << "\n";
      return;
    }
    if (all.empty()) {
      std::cout << "no flags; `zerodown flag set NAME --rollout 1%` creates one\n";
      return;
    }
    std::cout << fmt::format("{:<24} {:<5} {:>8}  {:<24} {}\n", "NAME", "STATE", "ROLLOUT",
                             "VERSION", "UPDATED");
    for (const auto& f : all) {
      std::cout << fmt::format("{:<24} {:<5} {:>8}  {:<24} {} by {}\n", f.name,
                               f.state.enabled ? "on" : "off",
                               flags::FormatRollout(f.state.rollout_bp),
                               f.state.version.value_or("-"), f.updated_at, f.updated_by);
    }
  });
}

void AddDelete(CLI::App* flag, GlobalOptions& global) {
  auto name = std::make_shared<std::string>();
  auto by = std::make_shared<std::string>(DefaultNote());
  auto* cmd = flag->add_subcommand(
      "delete",
      "Delete a flag: from then on it is off for every user (an unknown flag is off). Its history "
      "stays.\n\nExample:\n  zerodown flag delete new_balance");
  cmd->add_option("name", *name, "flag name")->required();
  cmd->add_option("--by", *by, "who asks, recorded beside the database user")->default_str("$USER");
  cmd->callback([&global, name, by] {
    pg::Connection conn = Connect(global);
    flags::Delete(conn, *name, *by).ThrowIfError();
    if (global.json) {
      std::cout << nlohmann::json{{"name", *name}, {"deleted", true}}.dump() << "\n";
    } else {
      std::cout << fmt::format("deleted flag \"{}\"; it is off for every user\n", *name);
    }
  });
}

const CommandRegistration kRegistration{
    85, [](CLI::App& app, GlobalOptions& global) {
      auto* flag = app.add_subcommand(
          "flag",
          "Feature flags in the target database (schema zerodown): which users see a new "
          "version. A user's bucket for a flag is fixed (MurmurHash3 of \"flag:user\" into "
          "10,000 buckets); the C++ library, `flag eval` and SQL's zerodown.flag_enabled(name, "
          "user_id) agree on it. See docs/flags.md.\n\nExamples:\n"
          "  zerodown flag set new_balance --rollout 1% --version public_004_balance\n"
          "  zerodown flag eval new_balance 42\n  zerodown flag list\n"
          "  zerodown flag history new_balance");
      flag->require_subcommand(1);
      AddSet(flag, global);
      AddGet(flag, global);
      AddList(flag, global);
      AddDelete(flag, global);
      AddFlagEval(flag, global);
      AddFlagHistory(flag, global);
      AddFlagInstall(flag, global);
    }};

}  // namespace
}  // namespace zerodown::cli
