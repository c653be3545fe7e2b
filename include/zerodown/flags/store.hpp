// Feature flags kept in the target database, so every process and every proxy sees one state:
// table zerodown.flags (one row per flag), table zerodown.flag_history (every change, by whom and
// when, old and new value), a NOTIFY on channel `zerodown_flags` at every change, and the SQL
// functions zerodown.flag_bucket(name, user_id) and zerodown.flag_enabled(name, user_id), which
// compute the bucket exactly as bucket.hpp does. The history and the NOTIFY come from triggers on
// zerodown.flags, so a change made with plain SQL is recorded and announced too. This module
// neither routes traffic nor caches flags: `zerodown proxy --route-flag` LISTENs and calls Get
// itself (src/proxy/flag_watch.cpp).
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "zerodown/common/error.hpp"
#include "zerodown/flags/bucket.hpp"
#include "zerodown/pg/connection.hpp"

namespace zerodown::flags {

// The LISTEN channel. Each change to zerodown.flags sends, on commit, one notification whose
// payload is a JSON object (see FlagNotice): {"change_id": 7, "flag": "new_balance",
// "action": "update", "enabled": true, "rollout_bp": 1000, "version": "public_004"}; for a delete
// the last three are null.
inline constexpr std::string_view kNotifyChannel = "zerodown_flags";

// What a flag says, apart from its name.
struct FlagState {
  bool enabled = false;  // off: nobody is in, whatever rollout_bp says
  int rollout_bp = 0;    // 0 .. kFullRollout basis points of users, when enabled
  // The version schema these users' sessions use (a proxy sets search_path to it); none: the flag
  // only answers yes or no.
  std::optional<std::string> version;

  bool operator==(const FlagState&) const = default;
};

// One row of zerodown.flags.
struct Flag {
  std::string name;
  FlagState state;
  std::string updated_at;  // timestamptz as text
  std::string updated_by;  // current_user, and the --by note in parentheses when it differs
};

// Whether `user_id` is in `state`: enabled and Bucket(flag_name, user_id) < rollout_bp. The same
// answer as SQL's zerodown.flag_enabled(flag_name, user_id).
bool Enabled(const FlagState& state, std::string_view flag_name, std::string_view user_id);

// One row of zerodown.flag_history.
struct FlagChange {
  std::int64_t change_id = 0;
  std::string flag;
  std::string action;                  // "insert", "update" or "delete"
  std::optional<FlagState> old_state;  // none for an insert
  std::optional<FlagState> new_state;  // none for a delete
  std::string db_user;                 // current_user of the changing session
  std::optional<std::string> note;     // `--by` (default $USER) of the CLI; none from plain SQL
  std::string changed_at;              // timestamptz as text
};

// A notification on kNotifyChannel, parsed.
struct FlagNotice {
  std::int64_t change_id = 0;
  std::string flag;
  std::string action;
  std::optional<FlagState> state;  // none for a delete
};
// Parses a payload; kInternal naming the payload when it is not one zerodown sends.
Result<FlagNotice> ParseNotice(std::string_view payload);

// What `flag set` changes; a field left empty keeps the flag's current value (or the default of
// a new flag: off, 0, no version).
struct FlagUpdate {
  std::optional<bool> enabled;
  std::optional<int> rollout_bp;
  std::optional<std::string> version;  // must name an existing schema
  bool clear_version = false;          // drop the flag's version
};

// Whether `name` can name a flag: 1 to 63 characters of letters, digits, '_', '-' and '.'. (No
// ':', which separates the flag from the user id in the hashed text.) kUsage naming it otherwise.
Status CheckFlagName(std::string_view name);

// OK when schema `version` exists; otherwise kNotFound naming the flag, the missing schema, the
// version schemas there are, and the fix. Reads the catalog only.
Status CheckVersionExists(pg::Connection& conn, std::string_view flag, std::string_view version);

// Creates schema zerodown, the two tables, their triggers and the SQL functions when they are
// missing or older than this build. Idempotent; a second run only reads the catalog. Serialised
// with other zerodown runs installing it by a transaction-level advisory lock; it never waits for
// a running migration. Returns whether it changed anything.
bool Install(pg::Connection& conn);

// Creates or changes flag `name` (installing first), in one transaction, with `note` recorded as
// who asked. Checks before changing anything: the name, the rollout range, and that `version`
// names an existing schema (kNotFound naming the flag, the schema and the fix otherwise). A new
// flag needs `enabled` or `rollout_bp`. Returns the flag as stored.
Result<Flag> Set(pg::Connection& conn, std::string_view name, const FlagUpdate& update,
                 std::string_view note);

// The flag, or none when it (or the flags table) does not exist. Never creates anything.
std::optional<Flag> Get(pg::Connection& conn, std::string_view name);

// Every flag by name; empty before Install.
std::vector<Flag> List(pg::Connection& conn);

// Deletes the flag, recording `note`. kNotFound when there is no such flag.
Status Delete(pg::Connection& conn, std::string_view name, std::string_view note);

// The flag's changes, oldest first (also after a delete); empty before Install.
std::vector<FlagChange> History(pg::Connection& conn, std::string_view name);

}  // namespace zerodown::flags
