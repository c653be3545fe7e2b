#include "engine/shadow/checker.hpp"

#include <fmt/format.h>

#include "engine/copy_check.hpp"

namespace zerodown::engine::shadow {

void CheckBeforeSwap(Context& ctx) {
  CopyCheckMode mode = ctx.options.check_before_swap;
  if (mode == CopyCheckMode::kOff) return;
  ctx.progress.OnMessage(fmt::format("checking the copy of {} against the table ({})",
                                     ctx.spec.table,
                                     mode == CopyCheckMode::kFull ? "every row" : "a sample"));
  CopyCheckResult check = CheckCopy(ctx.conn, ctx.spec, ctx.key, ctx.live, ctx.shadow, ctx.log,
                                    mode, ctx.options.check_sample_rows);
  ctx.report.rows_checked = check.rows;
  ctx.checkpoint["rows_checked"] = check.rows;
  if (check.mismatched > 0 || check.extra > 0) {
    std::string keys;
    for (const auto& k : check.keys) keys += (keys.empty() ? "" : ", ") + k;
    throw Error(ErrorKind::kMigrationFailed,
                fmt::format("the copy of {} differs from the table: {} of {} rows compared "
                            "differ or are missing in the copy{}{}, and {} rows of the copy "
                            "are not in the table",
                            ctx.spec.table, check.mismatched, check.rows,
                            keys.empty() ? "" : " (first keys: ", keys.empty() ? "" : keys + ")",
                            check.extra),
                "Nothing was swapped: the table serves as before, and the failed start removes "
                "the copy. Look for writes made with the table's triggers disabled (ALTER TABLE "
                "… DISABLE TRIGGER) while the copy runs; otherwise report this with the output "
                "of `zerodown plan`.");
  }
  ctx.progress.OnMessage(
      fmt::format("checked the copy of {}: {} rows{} equal to the table, none extra ({:.0f} ms)",
                  ctx.spec.table, check.rows,
                  check.percent < 100 ? fmt::format(" (a {:.2g}% sample)", check.percent) : "",
                  check.seconds * 1000));
}

}  // namespace zerodown::engine::shadow
