// bluegreen::StartOnGreen and CompleteOnGreen: a zerodown migration run by the engine on green
// only while blue's changes keep arriving. Every check comes first (the pair, the file, green's
// catalog, the plan), then the engine, then green's publication and the pair's state.
#include <fmt/format.h>

#include <algorithm>

#include "bluegreen/fence.hpp"
#include "bluegreen/migration_scope.hpp"
#include "bluegreen/replication.hpp"
#include "bluegreen/state.hpp"
#include "zerodown/model/migration_reader.hpp"

namespace zerodown::bluegreen {
namespace {

// The pair exists, no switch is recorded and blue serves (green receives its changes).
Result<PairState> CheckPair(Pair& pair, std::string_view command, std::string_view fix_if_green) {
  auto state = LoadState(pair);
  if (!state) {
    return Error(ErrorKind::kNotFound, "no blue-green pair exists for these databases",
                 "Run `zerodown bluegreen create --green URL` first.");
  }
  if (state->switching) {
    return Error(ErrorKind::kConflict,
                 fmt::format("bluegreen {} refused: a switch was interrupted", command),
                 "Run `zerodown bluegreen switch` to finish or undo it first.");
  }
  if (state->serving != Side::kBlue) {
    return Error(ErrorKind::kConflict,
                 fmt::format("bluegreen {} refused: green serves, and {} changes green only "
                             "while blue serves and green receives blue's changes",
                             command, command),
                 std::string(fix_if_green));
  }
  return *state;
}

// Green applies blue's changes and every table's initial copy is done: the engine's triggers
// and backfill then see every row blue has.
Status CheckSubscription(Pair& pair) {
  auto health = Health(pair.Of(Side::kGreen), PathName(pair, Side::kBlue));
  if (health.worker_running && health.tables_total > 0 &&
      health.tables_ready == health.tables_total) {
    return Status::Ok();
  }
  return Error(ErrorKind::kConflict,
               fmt::format("bluegreen start refused: green's subscription is {} ({} of {} "
                           "tables copied). Nothing was changed",
                           health.worker_running ? "applying" : "not applying", health.tables_ready,
                           health.tables_total),
               "Wait until `zerodown bluegreen status` shows every table ready and the "
               "subscription applying, then run start again.");
}

// Green takes no write while its fence (left by `switch --back`) stands, the migration's own
// included: refused up front rather than rolled back part-way by the first backfill.
Status CheckGreenUnfenced(Pair& pair) {
  if (!IsFenced(pair.Of(Side::kGreen))) return Status::Ok();
  return Error(ErrorKind::kConflict,
               fmt::format("bluegreen start refused: green keeps the write fence it got when "
                           "traffic switched back to blue (triggers named {} on its tables), and "
                           "the migration's writes there would be refused part-way. Nothing was "
                           "changed",
                           kFenceTrigger),
               "Make the change on blue with `zerodown start` instead, or, when no application "
               "writes to green, lift green's fence with `zerodown bluegreen unfence "
               "--postgres-url GREEN` and run start again.");
}

// The columns of `table`'s primary key and replica-identity index on `conn`, and whether its
// replica identity is FULL.
struct KeyInfo {
  std::vector<std::string> key_columns;
  bool identity_full = false;
};
KeyInfo KeyOf(pg::Connection& conn, const std::string& schema, const std::string& table) {
  KeyInfo info;
  std::string name = conn.Ident(schema, table);
  auto full =
      conn.Exec("SELECT relreplident = 'f' FROM pg_class WHERE oid = to_regclass($1)", {name});
  info.identity_full = !full.empty() && full.Bool(0, 0);
  auto rows = conn.Exec(
      "SELECT a.attname FROM pg_index i JOIN pg_attribute a ON a.attrelid = i.indrelid "
      "AND a.attnum = ANY (i.indkey) WHERE i.indrelid = to_regclass($1) "
      "AND (i.indisprimary OR i.indisreplident)",
      {name});
  for (int r = 0; r < rows.size(); ++r) info.key_columns.push_back(rows.Text(r, 0));
  return info;
}

// The table and the existing columns an operation copies beside their originals.
struct Touched {
  std::string table;
  std::vector<std::string> columns;
};
std::optional<Touched> TouchedBy(const model::Operation& operation) {
  if (const auto* add = std::get_if<model::AddColumn>(&operation)) {
    return Touched{add->table, {}};
  }
  if (const auto* alter = std::get_if<model::AlterColumn>(&operation)) {
    return Touched{alter->table, {alter->column}};
  }
  if (const auto* constraint = std::get_if<model::CreateConstraint>(&operation)) {
    return Touched{constraint->table, constraint->columns};
  }
  return std::nullopt;
}

// A key or replica-identity column changed on green would change how the subscription finds
// blue's rows (and a key's type change is a shadow copy); a table with REPLICA IDENTITY FULL
// cannot get a publication column list, so green may not gain columns there.
Status CheckKeys(pg::Connection& green, const model::Migration& migration,
                 const std::string& schema) {
  for (std::size_t i = 0; i < migration.operations.size(); ++i) {
    auto touched = TouchedBy(migration.operations[i]);
    if (!touched) continue;
    std::string where = fmt::format("{}, operation {} ({})", migration.source, i + 1,
                                    model::OperationName(migration.operations[i]));
    KeyInfo key = KeyOf(green, schema, touched->table);
    for (const auto& column : touched->columns) {
      if (std::find(key.key_columns.begin(), key.key_columns.end(), column) ==
          key.key_columns.end()) {
        continue;
      }
      return Error(ErrorKind::kInvalidMigration,
                   fmt::format("bluegreen start refuses to change column \"{}\" of \"{}\" on "
                               "green: it is in the primary key or replica identity, which is "
                               "how the subscription finds the row an UPDATE or DELETE from "
                               "blue changes. Nothing was changed",
                               column, touched->table),
                   "Change the key after the switch and `zerodown bluegreen finish`, with "
                   "`zerodown start --postgres-url GREEN`.")
          .WithWhere(where);
    }
    if (key.identity_full) {
      return Error(ErrorKind::kInvalidMigration,
                   fmt::format("bluegreen start refuses to add columns to \"{}\" on green: its "
                               "REPLICA IDENTITY is FULL, which rules out the publication column "
                               "list that keeps green's new columns off the way back to blue. "
                               "Nothing was changed",
                               touched->table),
                   "Give the table a primary key (or REPLICA IDENTITY USING INDEX) on both "
                   "sides before `zerodown bluegreen create`, or migrate it after `finish`.")
          .WithWhere(where);
    }
  }
  return Status::Ok();
}

// The shadow strategy builds a new heap and swaps it in under the table's name: rows the
// subscription applies meanwhile, and its mapping of blue's table, belong to the old heap.
Status CheckPlan(const engine::Plan& plan, const model::Migration& migration) {
  for (const auto* phase : {&plan.start, &plan.complete, &plan.rollback}) {
    for (const auto& action : *phase) {
      if (action.kind != engine::ActionKind::kShadowCopy &&
          action.kind != engine::ActionKind::kShadowSwapBack) {
        continue;
      }
      return Error(ErrorKind::kInvalidMigration,
                   fmt::format("bluegreen start refuses the shadow strategy on green ({}): it "
                               "copies the table into a new heap and swaps it in, so the rows "
                               "blue's subscription applies during the copy and its mapping of "
                               "the table would belong to the heap swapped out. Nothing was "
                               "changed",
                               action.description),
                   "Use a change that runs in place (alter_column of a column outside the "
                   "primary key, with --mechanism inplace or auto), or run it after `zerodown "
                   "bluegreen finish`.")
          .WithWhere(migration.source);
    }
  }
  return Status::Ok();
}

}  // namespace

Result<engine::MigrationRecord> StartOnGreen(Pair& pair, const model::Migration& migration,
                                             engine::EngineOptions options,
                                             ProgressSink& progress) {
  auto checked = CheckPair(pair, "start",
                           "Switch back (`zerodown bluegreen switch --back`) first, or finish the "
                           "pair and run `zerodown start` on green.");
  if (!checked) return checked.error();
  PairState& state = checked.value();
  if (Status s = CheckSubscription(pair); !s) return s.error();
  if (Status s = CheckGreenUnfenced(pair); !s) return s.error();
  if (Status s = CheckStartScope(migration); !s) return s.error();
  if (options.mechanism == engine::Mechanism::kShadow) {
    return Error(ErrorKind::kInvalidMigration,
                 "bluegreen start refuses --mechanism shadow: the shadow copy swaps a new heap "
                 "in under the table's name, and the rows blue's subscription applies during "
                 "the copy, with its mapping of the table, belong to the heap swapped out. "
                 "Nothing was changed",
                 "Leave --mechanism at auto (in place on green) or set it to inplace.")
        .WithWhere(migration.source);
  }
  options.mechanism = engine::Mechanism::kInPlace;
  pg::Connection& green = pair.Of(Side::kGreen);
  if (Status s = CheckKeys(green, migration, options.schema); !s) return s.error();
  engine::Engine engine(green, options, progress);
  auto active = engine.Status().active;
  bool resuming = active && active->name == migration.name &&
                  active->phase == engine::MigrationPhase::kStarting;
  if (!resuming) {
    if (Status s = CheckPlan(engine.PlanOnly(migration), migration); !s) return s.error();
  }
  engine::State(green).Init();
  engine::MigrationRecord record = engine.Start(migration);
  // Green's publication is idle until a switch; from now on it must not carry the new columns
  // to blue, which lacks them.
  SetPublishedColumns(green, pair.Of(Side::kBlue), state.tables, /*shared_only=*/true);
  state.migration = GreenMigration{record.name, "started", record.plan.version_schema};
  SaveState(pair, state);
  return record;
}

namespace {

// The pair, and the migration `name` StartOnGreen started on green and the engine still runs
// there; refused (kConflict) otherwise, before anything changes.
struct StartedOnGreen {
  PairState state;
  model::Migration migration;
};
Result<StartedOnGreen> FindStartedOnGreen(Pair& pair, engine::Engine& engine,
                                          const std::string& name, std::string_view command,
                                          std::string_view fix_if_green) {
  auto checked = CheckPair(pair, command, fix_if_green);
  if (!checked) return checked.error();
  PairState& state = checked.value();
  if (!state.migration || state.migration->name != name || state.migration->phase != "started") {
    return Error(
        ErrorKind::kConflict,
        fmt::format("no migration \"{}\" was started on green by `bluegreen start`{}", name,
                    state.migration ? fmt::format(" (the pair records \"{}\", {})",
                                                  state.migration->name, state.migration->phase)
                                    : ""),
        "`zerodown bluegreen status` names the migration green runs.");
  }
  auto active = engine.Status().active;
  if (!active || active->name != name) {
    return Error(ErrorKind::kConflict,
                 fmt::format("migration \"{}\" is not in progress on green", name),
                 "`zerodown status --postgres-url GREEN` shows green's migrations.");
  }
  auto migration = model::FromJson(active->migration, active->name);
  if (!migration) return migration.error();
  return StartedOnGreen{std::move(state), std::move(*migration)};
}

}  // namespace

Result<engine::MigrationRecord> CompleteOnGreen(Pair& pair, const std::string& name,
                                                engine::EngineOptions options,
                                                ProgressSink& progress) {
  pg::Connection& green = pair.Of(Side::kGreen);
  engine::Engine engine(green, options, progress);
  auto found = FindStartedOnGreen(
      pair, engine, name, "complete",
      "Finish the pair (`zerodown bluegreen finish`), then run `zerodown complete --postgres-url "
      "GREEN`: green then serves alone.");
  if (!found) return found.error();
  PairState& state = found.value().state;
  if (Status s = CheckCompleteWhileBlueServes(found.value().migration); !s) return s.error();
  // PostgreSQL refuses to drop a column a publication lists, and complete drops the originals.
  SetPublishedColumns(green, pair.Of(Side::kBlue), state.tables, /*shared_only=*/false);
  engine::MigrationRecord record = engine.Complete();
  SetPublishedColumns(green, pair.Of(Side::kBlue), state.tables, /*shared_only=*/true);
  state.migration->phase = "completed";
  SaveState(pair, state);
  return record;
}

Result<engine::MigrationRecord> RollbackOnGreen(Pair& pair, const std::string& name,
                                                engine::EngineOptions options,
                                                ProgressSink& progress) {
  pg::Connection& green = pair.Of(Side::kGreen);
  engine::Engine engine(green, options, progress);
  auto found = FindStartedOnGreen(
      pair, engine, name, "rollback",
      "Switch back (`zerodown bluegreen switch --back`) first: green's new version then serves "
      "nobody and can be rolled back.");
  if (!found) return found.error();
  PairState& state = found.value().state;
  // The publication lists only columns blue has, so the ones the rollback drops are not in it.
  engine::MigrationRecord record = engine.Rollback();
  SetPublishedColumns(green, pair.Of(Side::kBlue), state.tables, /*shared_only=*/true);
  state.migration.reset();
  SaveState(pair, state);
  return record;
}

}  // namespace zerodown::bluegreen
