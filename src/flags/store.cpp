#include "zerodown/flags/store.hpp"

#include <fmt/format.h>

#include <nlohmann/json.hpp>

#include "zerodown/pg/catalog.hpp"

namespace zerodown::flags {

namespace {

constexpr std::string_view kSelectFlag =
    "SELECT name, enabled, rollout_bp, version, updated_at::text, updated_by FROM zerodown.flags ";

bool FlagsTableExists(pg::Connection& conn) {
  return conn.Exec("SELECT to_regclass('zerodown.flags') IS NOT NULL").Bool(0, 0);
}

Flag FlagFromRow(const pg::Rows& rows, int row) {
  Flag flag;
  flag.name = rows.Text(row, 0);
  flag.state.enabled = rows.Bool(row, 1);
  flag.state.rollout_bp = static_cast<int>(rows.Int(row, 2));
  flag.state.version = rows.Optional(row, 3);
  flag.updated_at = rows.Text(row, 4);
  flag.updated_by = rows.Text(row, 5);
  return flag;
}

// {"enabled": …, "rollout_bp": …, "version": …} as the triggers write it; none for JSON null or
// a value with enabled null (a delete's notification).
std::optional<FlagState> StateFromJson(const nlohmann::json& json) {
  if (!json.is_object() || !json.contains("enabled") || json["enabled"].is_null()) {
    return std::nullopt;
  }
  FlagState state;
  state.enabled = json.at("enabled").get<bool>();
  state.rollout_bp = json.at("rollout_bp").get<int>();
  if (json.contains("version") && !json["version"].is_null()) {
    state.version = json["version"].get<std::string>();
  }
  return state;
}

std::optional<FlagState> StateFromText(const std::optional<std::string>& text) {
  if (!text) return std::nullopt;
  return StateFromJson(nlohmann::json::parse(*text));
}

// The version schemas zerodown's migrations made that exist now, to offer in an error.
std::vector<std::string> ExistingVersionSchemas(pg::Connection& conn) {
  std::vector<std::string> names;
  if (!conn.Exec("SELECT to_regclass('zerodown.migrations') IS NOT NULL").Bool(0, 0)) return names;
  pg::Rows rows = conn.Exec(
      "SELECT DISTINCT m.plan->>'version_schema' FROM zerodown.migrations m JOIN pg_namespace n "
      "ON n.nspname = m.plan->>'version_schema' ORDER BY 1");
  for (int i = 0; i < rows.size(); ++i) names.push_back(rows.Text(i, 0));
  return names;
}

// Sets zerodown.flag_note for the rest of the transaction: the triggers record it as who asked.
void SetNote(pg::Connection& conn, std::string_view note) {
  conn.Exec("SELECT set_config('zerodown.flag_note', $1, true)", {std::string(note)});
}

}  // namespace

bool Enabled(const FlagState& state, std::string_view flag_name, std::string_view user_id) {
  if (!state.enabled || state.rollout_bp <= 0) return false;
  if (state.rollout_bp >= kFullRollout) return true;
  return InRollout(Bucket(flag_name, user_id), state.rollout_bp);
}

Status CheckFlagName(std::string_view name) {
  bool ok = !name.empty() && name.size() <= 63 &&
            name.find_first_not_of(
                "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
                "0123456789_.-") == std::string_view::npos;
  if (ok) return Status::Ok();
  return Error(ErrorKind::kUsage, fmt::format("\"{}\" cannot name a flag", name),
               "Use 1 to 63 letters, digits, '_', '-' or '.', e.g. new_balance (a ':' would "
               "blur the flag name into the user id it is hashed with).");
}

Status CheckVersionExists(pg::Connection& conn, std::string_view flag, std::string_view version) {
  if (pg::SchemaExists(conn, std::string(version))) return Status::Ok();
  std::vector<std::string> known = ExistingVersionSchemas(conn);
  std::string offer = known.empty()
                          ? "no migration has made a version schema in this database yet"
                          : fmt::format("the version schemas here are {}", fmt::join(known, ", "));
  return Error(ErrorKind::kNotFound,
               fmt::format("flag \"{}\" names version \"{}\", but database \"{}\" has no schema "
                           "\"{}\"; nothing was changed",
                           flag, version, conn.Database(), version),
               fmt::format("Give --version the version schema of a started migration ({}; "
                           "`zerodown status` shows the current one), or run `zerodown start` "
                           "for that migration first.",
                           offer));
}

Result<Flag> Set(pg::Connection& conn, std::string_view name, const FlagUpdate& update,
                 std::string_view note) {
  if (Status s = CheckFlagName(name); !s) return s.error();
  if (update.rollout_bp && (*update.rollout_bp < 0 || *update.rollout_bp > kFullRollout)) {
    return Error(ErrorKind::kUsage,
                 fmt::format("flag \"{}\": a rollout of {} basis points is outside 0..{}", name,
                             *update.rollout_bp, kFullRollout),
                 "Give a percentage from 0% to 100% in steps of 0.01%.");
  }
  // Everything that can be refused is refused before anything is written, the install included.
  if (update.version) {
    if (Status s = CheckVersionExists(conn, name, *update.version); !s) return s.error();
  }
  std::optional<Flag> current = Get(conn, name);
  if (!current && !update.enabled && !update.rollout_bp) {
    return Error(
        ErrorKind::kUsage,
        fmt::format("flag \"{}\" does not exist, and a new flag needs a state", name),
        fmt::format("Say on, off or --rollout, e.g. `zerodown flag set {} --rollout 1%`.", name));
  }
  Install(conn);
  pg::Transaction tx(conn);
  // Read again under the row lock: a concurrent `flag set` of another field is kept, not undone.
  std::optional<Flag> locked;
  pg::Rows now =
      conn.Exec(std::string(kSelectFlag) + "WHERE name = $1 FOR UPDATE", {std::string(name)});
  if (!now.empty()) locked = FlagFromRow(now, 0);
  FlagState state = locked ? locked->state : FlagState{};
  if (update.enabled) state.enabled = *update.enabled;
  if (update.rollout_bp) state.rollout_bp = *update.rollout_bp;
  if (update.version) state.version = *update.version;
  if (update.clear_version) state.version.reset();
  SetNote(conn, note);
  pg::Rows rows = conn.Exec(
      "INSERT INTO zerodown.flags (name, enabled, rollout_bp, version) VALUES ($1, $2, $3, $4) "
      "ON CONFLICT (name) DO UPDATE SET enabled = excluded.enabled, rollout_bp = "
      "excluded.rollout_bp, version = excluded.version "
      "RETURNING name, enabled, rollout_bp, version, updated_at::text, updated_by",
      {std::string(name), state.enabled ? "true" : "false", std::to_string(state.rollout_bp),
       state.version});
  tx.Commit();
  return FlagFromRow(rows, 0);
}

std::optional<Flag> Get(pg::Connection& conn, std::string_view name) {
  if (!FlagsTableExists(conn)) return std::nullopt;
  pg::Rows rows = conn.Exec(std::string(kSelectFlag) + "WHERE name = $1", {std::string(name)});
  if (rows.empty()) return std::nullopt;
  return FlagFromRow(rows, 0);
}

std::vector<Flag> List(pg::Connection& conn) {
  std::vector<Flag> flags;
  if (!FlagsTableExists(conn)) return flags;
  pg::Rows rows = conn.Exec(std::string(kSelectFlag) + "ORDER BY name");
  for (int i = 0; i < rows.size(); ++i) flags.push_back(FlagFromRow(rows, i));
  return flags;
}

Status Delete(pg::Connection& conn, std::string_view name, std::string_view note) {
  if (FlagsTableExists(conn)) {
    pg::Transaction tx(conn);
    SetNote(conn, note);
    pg::Rows rows =
        conn.Exec("DELETE FROM zerodown.flags WHERE name = $1 RETURNING name", {std::string(name)});
    tx.Commit();
    if (!rows.empty()) return Status::Ok();
  }
  return Error(ErrorKind::kNotFound,
               fmt::format("there is no flag \"{}\" in database \"{}\"", name, conn.Database()),
               "`zerodown flag list` shows the flags there are.");
}

std::vector<FlagChange> History(pg::Connection& conn, std::string_view name) {
  std::vector<FlagChange> changes;
  if (!conn.Exec("SELECT to_regclass('zerodown.flag_history') IS NOT NULL").Bool(0, 0)) {
    return changes;
  }
  pg::Rows rows = conn.Exec(
      "SELECT change_id, flag, action, old_value::text, new_value::text, db_user, note, "
      "changed_at::text FROM zerodown.flag_history WHERE flag = $1 ORDER BY change_id",
      {std::string(name)});
  for (int i = 0; i < rows.size(); ++i) {
    FlagChange change;
    change.change_id = rows.Int(i, 0);
    change.flag = rows.Text(i, 1);
    change.action = rows.Text(i, 2);
    change.old_state = StateFromText(rows.Optional(i, 3));
    change.new_state = StateFromText(rows.Optional(i, 4));
    change.db_user = rows.Text(i, 5);
    change.note = rows.Optional(i, 6);
    change.changed_at = rows.Text(i, 7);
    changes.push_back(std::move(change));
  }
  return changes;
}

Result<FlagNotice> ParseNotice(std::string_view payload) {
  nlohmann::json json = nlohmann::json::parse(payload, nullptr, false);
  if (json.is_discarded() || !json.is_object() || !json.contains("change_id") ||
      !json.contains("flag") || !json.contains("action")) {
    return Error(ErrorKind::kInternal,
                 fmt::format("\"{}\" is not a notification zerodown sends on channel {}", payload,
                             kNotifyChannel),
                 "Only zerodown's flag triggers should NOTIFY on this channel.");
  }
  try {
    FlagNotice notice;
    notice.change_id = json.at("change_id").get<std::int64_t>();
    notice.flag = json.at("flag").get<std::string>();
    notice.action = json.at("action").get<std::string>();
    notice.state = StateFromJson(json);
    return notice;
  } catch (const nlohmann::json::exception& e) {
    return Error(ErrorKind::kInternal,
                 fmt::format("notification \"{}\" on channel {} has a field of the wrong type: {}",
                             payload, kNotifyChannel, e.what()),
                 "Only zerodown's flag triggers should NOTIFY on this channel.");
  }
}

}  // namespace zerodown::flags
