// zerodown flag eval|history|install: what a user gets from a flag, what happened to a flag, and
// installing the SQL functions without setting a flag.
#include <fmt/format.h>

#include <iostream>
#include <memory>

#include "cli/flag_command.hpp"
#include "cli/support.hpp"

namespace zerodown::cli {

namespace {

std::string ChangeText(const std::optional<flags::FlagState>& state) {
  return state ? DescribeFlagState(*state) : "(none)";
}

nlohmann::json ChangeJson(const flags::FlagChange& change) {
  auto state = [](const std::optional<flags::FlagState>& s) {
    return s ? FlagStateJson(*s) : nlohmann::json();
  };
  return {{"change_id", change.change_id},
          {"flag", change.flag},
          {"action", change.action},
          {"old", state(change.old_state)},
          {"new", state(change.new_state)},
          {"db_user", change.db_user},
          {"note", change.note ? nlohmann::json(*change.note) : nlohmann::json()},
          {"changed_at", change.changed_at}};
}

}  // namespace

void AddFlagEval(CLI::App* flag, GlobalOptions& global) {
  auto name = std::make_shared<std::string>();
  auto user = std::make_shared<std::string>();
  auto* cmd = flag->add_subcommand(
      "eval",
      "Show a user's bucket for a flag (0-9999) and whether the flag is on for that user now: "
      "the answer zerodown.flag_enabled(name, user_id) gives in SQL. An unknown flag is off.\n\n"
      "Examples:\n  zerodown flag eval new_balance 42\n"
      "  zerodown flag eval new_balance user123@example.com --json");
  cmd->add_option("name", *name, "flag name")->required();
  cmd->add_option("user_id", *user, "the user id the application passes (any text)")->required();
  cmd->callback([&global, name, user] {
    flags::CheckFlagName(*name).ThrowIfError();
    int bucket = flags::Bucket(*name, *user);
    pg::Connection conn = Connect(global);
    std::optional<flags::Flag> found = flags::Get(conn, *name);
    bool enabled = found && flags::Enabled(found->state, *name, *user);
    if (global.json) {
      nlohmann::json json = {{"flag", *name},      {"user_id", *user},  {"bucket", bucket},
                             {"enabled", enabled}, {"exists", !!found}, {"state", nullptr}};
      if (found) json["state"] = FlagStateJson(found->state);
      std::cout << json.dump() << "\n";
      return;
    }
    std::string why = found
                          ? fmt::format("flag \"{}\" is {}", *name, DescribeFlagState(found->state))
                          : fmt::format("there is no flag \"{}\"; an unknown flag is off", *name);
    std::cout << fmt::format("bucket {} of {}: {} ({})\n", bucket, flags::kBuckets,
                             enabled ? "on" : "off", why);
  });
}

void AddFlagHistory(CLI::App* flag, GlobalOptions& global) {
  auto name = std::make_shared<std::string>();
  auto* cmd = flag->add_subcommand(
      "history",
      "Every change of a flag, oldest first: when, which database user (and --by note), and the "
      "value before and after. Kept after a delete.\n\nExample:\n"
      "  zerodown flag history new_balance");
  cmd->add_option("name", *name, "flag name")->required();
  cmd->callback([&global, name] {
    pg::Connection conn = Connect(global);
    std::vector<flags::FlagChange> changes = flags::History(conn, *name);
    if (global.json) {
      nlohmann::json array = nlohmann::json::array();
      for (const auto& c : changes) array.push_back(ChangeJson(c));
      std::cout << array.dump() << "\n";
      return;
    }
    if (changes.empty()) {
      std::cout << fmt::format("flag \"{}\" has no recorded change\n", *name);
      return;
    }
    for (const auto& c : changes) {
      std::string who =
          c.note && *c.note != c.db_user ? fmt::format("{} ({})", c.db_user, *c.note) : c.db_user;
      std::cout << fmt::format("#{} {} by {}: {}: {} -> {}\n", c.change_id, c.changed_at, who,
                               c.action, ChangeText(c.old_state), ChangeText(c.new_state));
    }
  });
}

void AddFlagInstall(CLI::App* flag, GlobalOptions& global) {
  auto* cmd = flag->add_subcommand(
      "install",
      "Create the flags tables and the SQL functions zerodown.flag_enabled(name, user_id) and "
      "zerodown.flag_bucket(name, user_id) without setting a flag (`flag set` does it too). "
      "Safe to run again.\n\nExample:\n  zerodown flag install --postgres-url "
      "postgres://app@db.internal/shop");
  cmd->callback([&global] {
    pg::Connection conn = Connect(global);
    bool changed = flags::Install(conn);
    if (global.json) {
      std::cout << nlohmann::json{{"installed", changed}}.dump() << "\n";
    } else {
      std::cout << (changed ? "installed zerodown's flags in database \"" + conn.Database() + "\"\n"
                            : "zerodown's flags are already installed in database \"" +
                                  conn.Database() + "\"; nothing to do\n");
    }
  });
}

}  // namespace zerodown::cli
