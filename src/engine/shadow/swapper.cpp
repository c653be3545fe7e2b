#include "engine/shadow/swapper.hpp"

#include <fmt/format.h>
#include <fmt/ranges.h>

#include "engine/shadow/change_log.hpp"
#include "engine/shadow/checker.hpp"
#include "engine/shadow/sequences.hpp"

namespace zerodown::engine::shadow {

void Swapper::Swap() {
  CatchUpBeforeSwap();
  bool types_change = !ctx_.spec.retyped.empty();
  cut_over_.Swap(
      "swap " + ctx_.spec.table + " in", "swapped " + ctx_.spec.table + " in", replayer_.Forward(),
      {ctx_.shadow}, types_change,
      [&](pg::Connection& c, const Dependent& dependents) { SwapIn(c, dependents, types_change); });
}

void Swapper::CatchUpBeforeSwap() {
  ctx_.progress.OnCopyStage(CopyStage::kCatchUp, ctx_.spec.table);
  ctx_.progress.OnMessage(
      fmt::format("catching up on {}: {} logged changes to replay", ctx_.spec.table,
                  ctx_.conn.Exec(fmt::format("SELECT count(*) FROM {}", ctx_.log)).Int(0, 0)));
  Clock::time_point started = Clock::now();
  std::int64_t replayed_before = ctx_.report.log_entries_replayed;
  replayer_.ms() = {};
  replayer_.CatchUp(replayer_.Forward(), ctx_.options.swap_when_log_below);
  if (indexes_.BuildMissing(/*beyond_key=*/true) > 0) {
    replayer_.CatchUp(replayer_.Forward(), ctx_.options.swap_when_log_below);
  }
  double seconds = SecondsSince(started);
  std::int64_t replayed = ctx_.report.log_entries_replayed - replayed_before;
  int sessions = static_cast<int>(replayer_.HelpersFor(replayer_.Forward()).size()) + 1;
  // For the benchmark's record (saved with the swap).
  ctx_.checkpoint["catchup_sessions"] = sessions;
  ctx_.checkpoint["catchup_replayed"] = replayed;
  ctx_.checkpoint["catchup_seconds"] = seconds;
  const ReplayMs& ms = replayer_.ms();
  ctx_.progress.OnMessage(fmt::format(
      "caught up on {}: {} logged changes replayed in {:.1f} s ({:.0f}/s) by {} session{} "
      "(between them: taking {:.1f} s, planning {:.1f}, removing {:.1f}, copying {:.1f})",
      ctx_.spec.table, replayed, seconds, seconds > 0 ? replayed / seconds : 0.0, sessions,
      sessions > 1 ? "s" : "", ms.take / 1000, ms.plan / 1000, ms.remove / 1000, ms.copy / 1000));
  CheckBeforeSwap(ctx_);
  if (ctx_.options.before_cutover) {
    Clock::time_point asked = Clock::now();
    ctx_.options.before_cutover();
    // Only after a postponement: the seconds of the check above are the swap's approach's to
    // replay, and a catch-up of its own here cost a W1 run 7.5 s.
    if (Clock::now() - asked > std::chrono::seconds(1)) {
      replayer_.CatchUp(replayer_.Forward(), ctx_.options.swap_when_log_below);
    }
  }
}

void Swapper::SwapIn(pg::Connection& c, const Dependent& dependents, bool types_change) {
  const ShadowCopySpec& spec = ctx_.spec;
  std::vector<IndexToBuild> indexes = LiveIndexes(c, ctx_);
  std::vector<std::string> renames = RenameIndexes(c, ctx_, indexes);
  auto half = renames.begin() + static_cast<std::ptrdiff_t>(renames.size() / 2);
  std::vector<std::string> ddl = DropLogTriggersSql(c, spec.log_function, ctx_.live);
  ddl.insert(ddl.end(), renames.begin(), half);
  ddl.push_back(fmt::format("ALTER TABLE {} RENAME TO {}", ctx_.live, c.Ident(spec.retired)));
  ddl.insert(ddl.end(), half, renames.end());
  ddl.push_back(fmt::format("ALTER TABLE {} RENAME TO {}", ctx_.shadow, c.Ident(spec.table)));
  // Autovacuum is the table's again (the live table's own options follow, if it had any).
  ddl.push_back(fmt::format("ALTER TABLE {} RESET (autovacuum_enabled)", ctx_.live));
  ddl.insert(ddl.end(), dependents.statements.begin(), dependents.statements.end());
  ddl.insert(ddl.end(), spec.after_swap_sql.begin(), spec.after_swap_sql.end());
  // One round trip for all of it: each costs the lock's holder time.
  c.Run(fmt::format("{}", fmt::join(ddl, ";\n")));
  CarryIdentitySequences(c, ctx_.retired, ctx_.live);
  if (types_change) {
    for (const auto& sql : WidenSequences(c, spec, ctx_.live)) c.Exec(sql);
  }
  if (spec.keep_old_heap) KeepOldHeap(c, dependents, indexes);
  nlohmann::json validate = nlohmann::json::array();
  for (const auto& [table, name] : dependents.to_validate) validate.push_back({table, name});
  ctx_.checkpoint.SetStage(Stage::kSwapped);
  ctx_.checkpoint["validate"] = validate;
}

void Swapper::KeepOldHeap(pg::Connection& c, const Dependent& dependents,
                          const std::vector<IndexToBuild>& indexes) {
  for (const auto& name : dependents.triggers) {
    c.Exec(fmt::format("DROP TRIGGER {} ON {}", c.Ident(name), ctx_.retired));
  }
  for (const auto& name : dependents.outgoing_keys) {
    c.Exec(fmt::format("ALTER TABLE {} DROP CONSTRAINT {}", ctx_.retired, c.Ident(name)));
  }
  KeySql new_key = BuildKeySql(c, ctx_.live, ctx_.spec.key_columns);
  ChangeLogDdl log = ChangeLogSql(c, ctx_.spec.key_columns, ctx_.reverse_log,
                                  ctx_.spec.reverse_log_function, ctx_.live, new_key.types);
  for (const auto& sql : log.prepare) c.Exec(sql);
  c.Run(log.attach);
  nlohmann::json renamed = nlohmann::json::array();
  for (const auto& index : indexes) {
    renamed.push_back({{"oid", index.oid}, {"name", index.name}, {"constraint", index.constraint}});
  }
  ctx_.checkpoint["swapped_indexes"] = renamed;
}

void Swapper::Finish() {
  ValidateKeys(ctx_);
  try {
    ctx_.Retry("drop the old heap of " + ctx_.spec.table, [&](pg::Connection& c) {
      if (ctx_.spec.keep_old_heap) {
        c.Exec(fmt::format("DROP FUNCTION IF EXISTS {}()", ctx_.log_function));
        c.Exec(fmt::format("DROP TABLE IF EXISTS {}", ctx_.log));
        return;
      }
      for (const auto& sql : ctx_.spec.CleanupSql(c)) c.Exec(sql);
    });
  } catch (const Error& error) {
    if (error.kind() == ErrorKind::kConnection) throw;
    // The swap is done and the new heap serves; a leftover copy must not undo the migration.
    ctx_.progress.OnMessage(fmt::format(
        "the old heap of {} could not be dropped ({}); drop {} once nothing refers to it",
        ctx_.spec.table, error.message(), ctx_.retired));
  }
  ctx_.checkpoint.SetStage(Stage::kDone);
  pg::Transaction tx(ctx_.conn);
  ctx_.Save();
  tx.Commit();
}

}  // namespace zerodown::engine::shadow
