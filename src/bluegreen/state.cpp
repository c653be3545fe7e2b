#include "bluegreen/state.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <array>
#include <nlohmann/json.hpp>

namespace zerodown::bluegreen {
namespace {

constexpr std::array<std::string_view, 11> kStepNames = {
    "reverse_prepared", "paused",          "fenced",          "caught_up", "sequences", "slot",
    "forward_disabled", "reverse_created", "target_unfenced", "moved",     "resumed"};

// The fence raises read_only_sql_transaction (25006), the error a read-only server gives, so
// applications and poolers that handle a failover already know it. The apply worker of a
// subscription runs with session_replication_role = replica, under which ordinary triggers do
// not fire: the fence stops every role's sessions, superusers included, and not replication.
constexpr std::string_view kInstall = R"(
CREATE SCHEMA IF NOT EXISTS zerodown;
CREATE TABLE IF NOT EXISTS zerodown.bluegreen_state (
  singleton boolean PRIMARY KEY DEFAULT true CHECK (singleton),
  side text NOT NULL,
  state jsonb NOT NULL,
  updated_at timestamptz NOT NULL DEFAULT now());
CREATE TABLE IF NOT EXISTS zerodown.bluegreen_heartbeat (
  id int PRIMARY KEY,
  beat_at timestamptz NOT NULL,
  token text NOT NULL DEFAULT '');
CREATE OR REPLACE FUNCTION zerodown.bluegreen_fence() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  RAISE EXCEPTION 'zerodown bluegreen: this database no longer takes writes (% on %.%)',
    TG_OP, TG_TABLE_SCHEMA, TG_TABLE_NAME
    USING ERRCODE = 'read_only_sql_transaction',
          HINT = 'Traffic moved to the other database of the blue-green pair; connect there.';
END $$;
)";

nlohmann::json ToJson(const PairState& state) {
  nlohmann::json tables = nlohmann::json::array();
  for (const auto& t : state.tables) tables.push_back({t.schema, t.name});
  nlohmann::json j = {{"serving", SideName(state.serving)},
                      {"tables", tables},
                      {"fingerprint", state.fingerprint},
                      {"switching", nullptr},
                      {"migration", nullptr}};
  if (state.migration) {
    j["migration"] = {{"name", state.migration->name},
                      {"phase", state.migration->phase},
                      {"version_schema", state.migration->version_schema}};
  }
  if (state.switching) {
    nlohmann::json done = nlohmann::json::array();
    for (Step s : state.switching->done) done.push_back(StepName(s));
    j["switching"] = {{"from", SideName(state.switching->from)},
                      {"to", SideName(state.switching->to)},
                      {"done", done},
                      {"target_was_fenced", state.switching->target_was_fenced}};
  }
  return j;
}

Side ParseSide(const std::string& name) { return name == "green" ? Side::kGreen : Side::kBlue; }

PairState FromJson(const nlohmann::json& j) {
  PairState state;
  state.serving = ParseSide(j.value("serving", "blue"));
  for (const auto& t : j.at("tables")) state.tables.push_back({t.at(0), t.at(1)});
  state.fingerprint = j.value("fingerprint", "");
  if (j.contains("migration") && j["migration"].is_object()) {
    const auto& m = j["migration"];
    state.migration =
        GreenMigration{m.value("name", ""), m.value("phase", ""), m.value("version_schema", "")};
  }
  if (j.contains("switching") && j["switching"].is_object()) {
    const auto& s = j["switching"];
    SwitchProgress progress{ParseSide(s.value("from", "blue")),
                            ParseSide(s.value("to", "green")),
                            {},
                            s.value("target_was_fenced", false)};
    for (const auto& name : s.at("done")) {
      auto it = std::find(kStepNames.begin(), kStepNames.end(), name.get<std::string>());
      if (it != kStepNames.end())
        progress.done.push_back(static_cast<Step>(it - kStepNames.begin()));
    }
    state.switching = progress;
  }
  return state;
}

}  // namespace

std::string_view SideName(Side side) { return side == Side::kBlue ? "blue" : "green"; }

std::string_view StepName(Step step) { return kStepNames.at(static_cast<std::size_t>(step)); }

bool SwitchProgress::Did(Step step) const {
  return std::find(done.begin(), done.end(), step) != done.end();
}

void InstallState(pg::Connection& conn, bool seed_heartbeat) {
  conn.Run(kInstall);
  if (seed_heartbeat) {
    conn.Exec(
        "INSERT INTO zerodown.bluegreen_heartbeat (id, beat_at) VALUES (1, clock_timestamp()) "
        "ON CONFLICT (id) DO NOTHING");
  }
}

void SaveState(Pair& pair, const PairState& state) {
  std::string text = ToJson(state).dump();
  for (Side side : {Side::kBlue, Side::kGreen}) {
    pair.Of(side).Exec(
        "INSERT INTO zerodown.bluegreen_state (side, state) VALUES ($1, $2::jsonb) "
        "ON CONFLICT (singleton) DO UPDATE SET state = EXCLUDED.state, updated_at = now()",
        {std::string(SideName(side)), text});
  }
}

std::optional<LocalState> LoadLocal(pg::Connection& conn) {
  auto exists = conn.Exec("SELECT to_regclass('zerodown.bluegreen_state') IS NOT NULL");
  if (!exists.Bool(0, 0)) return std::nullopt;
  auto rows = conn.Exec("SELECT side, state::text FROM zerodown.bluegreen_state");
  if (rows.empty()) return std::nullopt;
  return LocalState{ParseSide(rows.Text(0, 0)), FromJson(nlohmann::json::parse(rows.Text(0, 1)))};
}

std::optional<PairState> LoadState(Pair& pair) {
  for (Side side : {Side::kBlue, Side::kGreen}) {
    if (auto local = LoadLocal(pair.Of(side))) return local->pair;
  }
  return std::nullopt;
}

void DropState(pg::Connection& conn, bool keep_fence) {
  conn.Run(
      "DROP TABLE IF EXISTS zerodown.bluegreen_state; "
      "DROP TABLE IF EXISTS zerodown.bluegreen_heartbeat");
  if (!keep_fence) conn.Run("DROP FUNCTION IF EXISTS zerodown.bluegreen_fence() CASCADE");
}

}  // namespace zerodown::bluegreen
