// bluegreen::LiftFence: the write fence of one database lifted on purpose, after `finish` or on
// the side of a pair that does not serve.
#include <fmt/format.h>

#include "bluegreen/fence.hpp"
#include "bluegreen/state.hpp"

namespace zerodown::bluegreen {
namespace {

Status CheckPairAllows(const LocalState& local) {
  if (local.pair.switching) {
    return Error(ErrorKind::kConflict,
                 fmt::format("bluegreen unfence: this database ({}) records a switch from {} to "
                             "{} that was interrupted; the switch itself sets and lifts fences",
                             SideName(local.side), SideName(local.pair.switching->from),
                             SideName(local.pair.switching->to)),
                 "Run `zerodown bluegreen switch` again to finish or undo it. Nothing was "
                 "changed.");
  }
  if (local.side == local.pair.serving) {
    return Error(ErrorKind::kConflict,
                 fmt::format("bluegreen unfence: this database is {}, the side of the pair that "
                             "serves; only the other side is fenced",
                             SideName(local.side)),
                 fmt::format("Point --postgres-url at {} to lift its fence. Nothing was changed.",
                             SideName(Other(local.side))));
  }
  return Status::Ok();
}

}  // namespace

Result<UnfenceReport> LiftFence(pg::Connection& conn, std::chrono::milliseconds lock_timeout) {
  UnfenceReport report;
  auto local = LoadLocal(conn);
  if (local) {
    if (auto allowed = CheckPairAllows(*local); !allowed.ok()) return allowed.error();
    report.side = local->side;
  }
  report.tables = FencedTables(conn);
  if (local) {
    // The pair's next switch fences this side again with the same function: keep it.
    Unfence(conn, local->pair.tables, lock_timeout);
    return report;
  }
  pg::Transaction tx(conn);
  LimitLockWaits(conn, lock_timeout);
  conn.Exec("DROP FUNCTION IF EXISTS zerodown.bluegreen_fence() CASCADE");
  tx.Commit();
  return report;
}

}  // namespace zerodown::bluegreen
