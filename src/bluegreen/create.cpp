// bluegreen::Create: every check first, then the schema copy, the state, the publications, the
// slot on blue and green's subscription with its initial copy.
#include <fmt/format.h>

#include "bluegreen/catalog.hpp"
#include "bluegreen/replication.hpp"
#include "bluegreen/schema_copy.hpp"
#include "bluegreen/state.hpp"

namespace zerodown::bluegreen {
namespace {

Status CheckBefore(Pair& pair) {
  if (LoadState(pair)) {
    return Error(ErrorKind::kConflict, "a blue-green pair already exists for these databases",
                 "See `zerodown bluegreen status`; `finish` or `abort` ends it.");
  }
  for (Side side : {Side::kBlue, Side::kGreen}) {
    auto level = pair.Of(side).Exec("SHOW wal_level");
    if (level.Text(0, 0) != "logical") {
      return Error(ErrorKind::kConflict,
                   fmt::format("{} runs with wal_level = {}: logical replication needs logical",
                               SideName(side), level.Text(0, 0)),
                   fmt::format("ALTER SYSTEM SET wal_level = logical on {} and restart it "
                               "(the way back needs it on both sides).",
                               SideName(side)));
    }
  }
  auto refusals = Refusals(pair.Of(Side::kBlue));
  if (!refusals.empty()) {
    std::string text = "blue holds what logical replication cannot carry; nothing was changed:";
    for (const auto& r : refusals) text += "\n  - " + r;
    return Error(ErrorKind::kInvalidMigration, text,
                 "Fix each item on blue, then run create again.");
  }
  if (HasUserTables(pair.Of(Side::kGreen))) {
    return Error(ErrorKind::kConflict,
                 "green already holds tables: create copies blue's schema into an empty database",
                 "Point --green at a new database (CREATE DATABASE …) and run create again.");
  }
  return Status::Ok();
}

}  // namespace

Result<CreateReport> Create(Pair& pair, const CreateOptions& options, const Progress& progress) {
  if (auto checked = CheckBefore(pair); !checked) return checked.error();
  pg::Connection& blue = pair.Of(Side::kBlue);
  pg::Connection& green = pair.Of(Side::kGreen);

  progress("copying blue's schema to green (pg_dump --schema-only)");
  CopySchema(blue, green, options.bindir);
  PairState state{Side::kBlue, UserTables(blue), Fingerprint(blue), std::nullopt, std::nullopt};
  if (std::string copied = Fingerprint(green); copied != state.fingerprint) {
    return Error(ErrorKind::kInternal,
                 "green's schema differs from blue's after the copy (fingerprints " + copied +
                     " and " + state.fingerprint + ")",
                 "Compare pg_dump --schema-only of both; run `zerodown bluegreen abort` and "
                 "recreate green.");
  }
  InstallState(blue, /*seed_heartbeat=*/true);
  InstallState(green, /*seed_heartbeat=*/false);
  // Recorded before the replication objects, so `abort` finds them after a failure below.
  SaveState(pair, state);

  progress(fmt::format("publishing {} tables on blue", state.tables.size()));
  CreatePublication(blue, state.tables);
  // Green's publication waits, unused, for the way back: with no slot it costs nothing.
  CreatePublication(green, state.tables);
  std::string path = PathName(pair, Side::kBlue);
  CreateSlot(blue, path);
  CreateSubscription(green, pair.ConnInfoOf(Side::kBlue), path, /*copy_data=*/true);
  progress(
      "green subscribed; the initial copy runs in the background (`zerodown bluegreen "
      "status` shows it)");

  CreateReport report;
  for (const auto& t : state.tables) report.tables.push_back(t.Display());
  report.fingerprint = state.fingerprint;
  return report;
}

}  // namespace zerodown::bluegreen
