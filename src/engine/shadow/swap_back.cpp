#include "engine/shadow/swap_back.hpp"

#include <fmt/format.h>

#include <vector>

#include "engine/crash_point.hpp"
#include "engine/shadow/change_log.hpp"
#include "engine/shadow/replay_sql.hpp"
#include "engine/shadow/sequences.hpp"
#include "zerodown/pg/catalog.hpp"

namespace zerodown::engine::shadow {

void SwapBack::Check() {
  if (!pg::RelationExists(ctx_.conn, ctx_.retired)) return;
  ctx_.key = BuildKeySql(ctx_.conn, ctx_.live, ctx_.spec.key_columns);
  std::string casts;
  for (const pg::RelationColumn& c : OldHeapColumns(ctx_)) {
    casts +=
        fmt::format("{}CAST({} AS {})", casts.empty() ? "" : ", ", ctx_.conn.Ident(c.name), c.type);
  }
  // count(ROW(…)::text) evaluates every cast; count(*) over a subquery would skip them.
  auto result = ctx_.conn.TryExec(
      fmt::format("SELECT count(ROW({})::text) FROM {} WHERE ({}) IN (SELECT {} FROM {})", casts,
                  ctx_.live, ctx_.key.list, ctx_.key.list, ctx_.reverse_log));
  if (!result.ok()) {
    throw DoesNotFit(result.error(),
                     "Complete the migration instead (the new types hold those rows), or change "
                     "those rows so they fit the old types and roll back again.");
  }
}

void SwapBack::Run(const nlohmann::json& forward) {
  ctx_.key = BuildKeySql(ctx_.conn, ctx_.live, ctx_.spec.key_columns);
  bool old_heap = pg::RelationExists(ctx_.conn, ctx_.retired);
  if (ctx_.checkpoint.Stage() == Stage::kNone && old_heap) {
    try {
      replayer_.CatchUp(replayer_.Reverse(), ctx_.options.swap_when_log_below);
      cut_over_.Swap("swap the old heap of " + ctx_.spec.table + " back in",
                     "swapped the old heap of " + ctx_.spec.table + " back in", replayer_.Reverse(),
                     {ctx_.retired}, true, [&](pg::Connection& c, const Dependent& dependents) {
                       UnderLock(c, dependents, forward);
                     });
      ctx_.Settle("the swap back");
    } catch (const Error& error) {
      if (error.sqlstate().rfind("22", 0) != 0) throw;
      // A row written after the check in CheckShadowSwapBack. The swap back did not happen.
      throw DoesNotFit(error,
                       "Change those rows so they fit the old types and run `zerodown "
                       "rollback` again (the rollback is half-way: complete is not possible).");
    }
  }
  if (ctx_.checkpoint.Stage() == Stage::kSwapped) {
    CrashPoint("swapped_back");
    ValidateKeys(ctx_);
    ctx_.checkpoint.SetStage(Stage::kDone);
    pg::Transaction tx(ctx_.conn);
    ctx_.Save();
    tx.Commit();
  }
}

Error SwapBack::DoesNotFit(const Error& cause, std::string fix) const {
  return Error(ErrorKind::kMigrationFailed,
               fmt::format("rows written to {} since the swap do not fit its old heap: {}",
                           ctx_.spec.table, cause.message()),
               std::move(fix));
}

void SwapBack::UnderLock(pg::Connection& c, const Dependent& dependents,
                         const nlohmann::json& forward) {
  const ShadowCopySpec& spec = ctx_.spec;
  for (const auto& sql : DropLogTriggersSql(c, spec.reverse_log_function, ctx_.live)) c.Exec(sql);
  std::vector<std::string> after;
  for (const auto& index : forward.value("swapped_indexes", nlohmann::json::array())) {
    std::string oid = index.at("oid").get<std::string>();
    std::string name = index.at("name").get<std::string>();
    std::string old_name = "_zd_old_" + oid;
    if (index.at("constraint").get<std::string>().empty()) {
      c.Exec(fmt::format("ALTER INDEX {} RENAME TO {}", c.Ident(spec.schema, name),
                         c.Ident("_zd_back_" + oid)));
      after.push_back(fmt::format("ALTER INDEX {} RENAME TO {}", c.Ident(spec.schema, old_name),
                                  c.Ident(name)));
    } else {
      c.Exec(fmt::format("ALTER TABLE {} RENAME CONSTRAINT {} TO {}", ctx_.live, c.Ident(name),
                         c.Ident("_zd_back_" + oid)));
      after.push_back(fmt::format("ALTER TABLE {} RENAME CONSTRAINT {} TO {}", ctx_.retired,
                                  c.Ident(old_name), c.Ident(name)));
    }
  }
  for (const auto& sql : after) c.Exec(sql);
  c.Exec(fmt::format("ALTER TABLE {} RENAME TO {}", ctx_.live, c.Ident(spec.shadow)));
  c.Exec(fmt::format("ALTER TABLE {} RENAME TO {}", ctx_.retired, c.Ident(spec.table)));
  CarryIdentitySequences(c, ctx_.shadow, ctx_.live);
  for (const auto& sql : dependents.statements) c.Exec(sql);
  nlohmann::json validate = nlohmann::json::array();
  for (const auto& [table, name] : dependents.to_validate) validate.push_back({table, name});
  ctx_.checkpoint.SetStage(Stage::kSwapped);
  ctx_.checkpoint["validate"] = validate;
}

}  // namespace zerodown::engine::shadow
