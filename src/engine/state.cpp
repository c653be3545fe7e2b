#include "zerodown/engine/state.hpp"

#include "zerodown/pg/catalog.hpp"

namespace zerodown::engine {

namespace {

// Version 1 of the state schema. Later versions add ALTERs guarded by state_version.
constexpr std::string_view kSchemaSql = R"sql(
CREATE SCHEMA IF NOT EXISTS zerodown;
CREATE TABLE IF NOT EXISTS zerodown.state_version (version int NOT NULL);
INSERT INTO zerodown.state_version SELECT 1 WHERE NOT EXISTS (SELECT 1 FROM zerodown.state_version);
CREATE TABLE IF NOT EXISTS zerodown.migrations (
  schema text NOT NULL,
  name text NOT NULL,
  parent text,
  migration jsonb NOT NULL,
  plan jsonb NOT NULL,
  phase text NOT NULL CHECK (phase IN ('starting', 'active', 'completing', 'complete',
                                       'rolling_back', 'rolled_back')),
  created_at timestamptz NOT NULL DEFAULT now(),
  updated_at timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (schema, name)
);
CREATE UNIQUE INDEX IF NOT EXISTS migrations_one_active ON zerodown.migrations (schema)
  WHERE phase NOT IN ('complete', 'rolled_back');
CREATE TABLE IF NOT EXISTS zerodown.steps (
  schema text NOT NULL,
  migration text NOT NULL,
  phase text NOT NULL,
  action text NOT NULL,
  done boolean NOT NULL DEFAULT false,
  rows_done bigint NOT NULL DEFAULT 0,
  rows_total bigint NOT NULL DEFAULT 0,
  checkpoint jsonb,
  updated_at timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (schema, migration, phase, action),
  FOREIGN KEY (schema, migration) REFERENCES zerodown.migrations ON DELETE CASCADE
);
)sql";

constexpr std::string_view kSelectMigration =
    "SELECT schema, name, parent, migration::text, plan::text, phase, created_at::text, "
    "updated_at::text FROM zerodown.migrations ";

}  // namespace

bool State::Initialized() { return pg::RelationNamed(conn_, "zerodown", "steps"); }

void State::RequireInitialized() {
  if (!Initialized()) {
    throw Error(ErrorKind::kUsage,
                "zerodown's state schema is missing in database \"" + conn_.Database() + "\"",
                "Run `zerodown init` once against this database first.");
  }
}

bool State::Init() {
  if (pg::IsInRecovery(conn_)) {
    throw Error(ErrorKind::kUsage, "database \"" + conn_.Database() + "\" is a read-only standby",
                "Point --postgres-url at the primary; zerodown keeps its state in the database "
                "it changes.");
  }
  if (Initialized()) return false;
  pg::Transaction tx(conn_);
  conn_.Run(kSchemaSql);
  tx.Commit();
  return true;
}

namespace {

constexpr std::pair<MigrationPhase, std::string_view> kPhaseNames[] = {
    {MigrationPhase::kStarting, "starting"},        {MigrationPhase::kActive, "active"},
    {MigrationPhase::kCompleting, "completing"},    {MigrationPhase::kComplete, "complete"},
    {MigrationPhase::kRollingBack, "rolling_back"}, {MigrationPhase::kRolledBack, "rolled_back"},
};

}  // namespace

std::string_view PhaseName(MigrationPhase phase) {
  for (const auto& [value, name] : kPhaseNames) {
    if (value == phase) return name;
  }
  return "unknown";
}

MigrationPhase PhaseFromName(std::string_view name) {
  for (const auto& [value, known] : kPhaseNames) {
    if (known == name) return value;
  }
  throw Error(ErrorKind::kInternal,
              "zerodown.migrations holds the unknown phase '" + std::string(name) + "'",
              "The state was written by another version of zerodown: run the version that "
              "started this migration.");
}

MigrationRecord State::FromRow(const pg::Rows& rows, int row) {
  MigrationRecord r;
  r.schema = rows.Text(row, 0);
  r.name = rows.Text(row, 1);
  r.parent = rows.Optional(row, 2);
  r.migration = nlohmann::json::parse(rows.Text(row, 3));
  r.plan = PlanFromJson(nlohmann::json::parse(rows.Text(row, 4)));
  r.phase = PhaseFromName(rows.Text(row, 5));
  r.created_at = rows.Text(row, 6);
  r.updated_at = rows.Text(row, 7);
  return r;
}

std::optional<MigrationRecord> State::Active(const std::string& schema) {
  pg::Rows rows = conn_.Exec(std::string(kSelectMigration) +
                                 "WHERE schema = $1 AND phase NOT IN ('complete', 'rolled_back')",
                             {schema});
  if (rows.empty()) return std::nullopt;
  return FromRow(rows, 0);
}

std::optional<MigrationRecord> State::LatestComplete(const std::string& schema) {
  pg::Rows rows = conn_.Exec(std::string(kSelectMigration) +
                                 "WHERE schema = $1 AND phase = 'complete' "
                                 "ORDER BY updated_at DESC LIMIT 1",
                             {schema});
  if (rows.empty()) return std::nullopt;
  return FromRow(rows, 0);
}

std::optional<MigrationRecord> State::Find(const std::string& schema, const std::string& name) {
  pg::Rows rows =
      conn_.Exec(std::string(kSelectMigration) + "WHERE schema = $1 AND name = $2", {schema, name});
  if (rows.empty()) return std::nullopt;
  return FromRow(rows, 0);
}

std::vector<MigrationRecord> State::History(const std::string& schema) {
  pg::Rows rows =
      conn_.Exec(std::string(kSelectMigration) + "WHERE schema = $1 ORDER BY created_at", {schema});
  std::vector<MigrationRecord> records;
  for (int i = 0; i < rows.size(); ++i) records.push_back(FromRow(rows, i));
  return records;
}

void State::Insert(const MigrationRecord& record) {
  conn_.Exec(
      "INSERT INTO zerodown.migrations (schema, name, parent, migration, plan, phase) "
      "VALUES ($1, $2, $3, $4::jsonb, $5::jsonb, $6)",
      {record.schema, record.name, record.parent, record.migration.dump(),
       ToJson(record.plan).dump(), std::string(PhaseName(record.phase))});
}

void State::SetPhase(const std::string& schema, const std::string& name, MigrationPhase phase) {
  conn_.Exec(
      "UPDATE zerodown.migrations SET phase = $3, updated_at = clock_timestamp() "
      "WHERE schema = $1 AND name = $2",
      {schema, name, std::string(PhaseName(phase))});
}

void State::Reset(const std::string& schema, const std::string& name,
                  const nlohmann::json& migration, const Plan& plan,
                  const std::optional<std::string>& parent) {
  pg::Transaction tx(conn_);
  conn_.Exec("DELETE FROM zerodown.steps WHERE schema = $1 AND migration = $2", {schema, name});
  conn_.Exec(
      "UPDATE zerodown.migrations SET migration = $3::jsonb, plan = $4::jsonb, parent = $5, "
      "phase = 'starting', created_at = clock_timestamp(), updated_at = clock_timestamp() "
      "WHERE schema = $1 AND name = $2",
      {schema, name, migration.dump(), ToJson(plan).dump(), parent});
  tx.Commit();
}

std::vector<StepRecord> State::Steps(const std::string& schema, const std::string& name) {
  pg::Rows rows = conn_.Exec(
      "SELECT phase, action, done, rows_done, rows_total, coalesce(checkpoint::text, 'null'), "
      "updated_at::text FROM zerodown.steps WHERE schema = $1 AND migration = $2 "
      "ORDER BY updated_at",
      {schema, name});
  std::vector<StepRecord> steps;
  for (int i = 0; i < rows.size(); ++i) {
    steps.push_back({rows.Text(i, 0), rows.Text(i, 1), rows.Bool(i, 2), rows.Int(i, 3),
                     rows.Int(i, 4), nlohmann::json::parse(rows.Text(i, 5)), rows.Text(i, 6)});
  }
  return steps;
}

std::optional<StepRecord> State::Step(const std::string& schema, const std::string& name,
                                      PlanPhase phase, const std::string& action) {
  for (auto& step : Steps(schema, name)) {
    if (step.phase == PlanPhaseName(phase) && step.action == action) return step;
  }
  return std::nullopt;
}

void State::MarkDone(const std::string& schema, const std::string& name, PlanPhase phase,
                     const std::string& action) {
  conn_.Exec(
      "INSERT INTO zerodown.steps (schema, migration, phase, action, done) "
      "VALUES ($1, $2, $3, $4, true) ON CONFLICT (schema, migration, phase, action) "
      "DO UPDATE SET done = true, updated_at = clock_timestamp()",
      {schema, name, std::string(PlanPhaseName(phase)), action});
}

void State::SaveProgress(const std::string& schema, const std::string& name, PlanPhase phase,
                         const std::string& action, std::int64_t rows_done, std::int64_t rows_total,
                         const nlohmann::json& checkpoint) {
  conn_.Exec(
      "INSERT INTO zerodown.steps (schema, migration, phase, action, rows_done, rows_total, "
      "checkpoint) VALUES ($1, $2, $3, $4, $5, $6, $7::jsonb) "
      "ON CONFLICT (schema, migration, phase, action) DO UPDATE SET rows_done = $5, "
      "rows_total = $6, checkpoint = $7::jsonb, updated_at = clock_timestamp()",
      {schema, name, std::string(PlanPhaseName(phase)), action, std::to_string(rows_done),
       std::to_string(rows_total), checkpoint.dump()});
}

}  // namespace zerodown::engine
