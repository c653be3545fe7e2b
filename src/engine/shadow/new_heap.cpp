#include "engine/shadow/new_heap.hpp"

#include <fmt/format.h>

#include "engine/shadow/change_log.hpp"
#include "zerodown/pg/catalog.hpp"
#include "zerodown/pg/catalog_sequences.hpp"
#include "zerodown/pg/lock_retry.hpp"

namespace zerodown::engine::shadow {

namespace {

// The triggers' lock waits behind the application's running writes, and its new writes queue
// behind the wait: first a few tries that each wait no longer than a short transaction takes,
// so that a try finds a moment between writes, then the run's lock policy.
constexpr std::chrono::milliseconds kShortLockWait{20};
constexpr int kShortTries = 10;

pg::LockRetryPolicy ShortWaits(const pg::LockRetryPolicy& policy) {
  pg::LockRetryPolicy shorter = policy;
  shorter.lock_timeout = std::min(policy.lock_timeout, kShortLockWait);
  shorter.max_attempts = kShortTries;
  shorter.first_backoff = kShortLockWait;
  shorter.max_backoff = kShortLockWait;
  return shorter;
}

}  // namespace

void NewHeap::Create() {
  std::string what = "install the change log on " + ctx_.spec.table;
  try {
    pg::RunWithLockRetry(ctx_.conn, ShortWaits(ctx_.options.lock), what,
                         [&](pg::Connection& c) { CreateIn(c); });
  } catch (const Error& error) {
    if (error.kind() != ErrorKind::kLockTimeout) throw;
    ctx_.Retry(what, [&](pg::Connection& c) { CreateIn(c); });
  }
}

void NewHeap::CreateIn(pg::Connection& c) {
  std::int64_t total = pg::EstimatedRows(c, ctx_.live);
  std::string persistence = pg::IsUnlogged(c, ctx_.live) ? "UNLOGGED " : "";
  const ShadowCopySpec& spec = ctx_.spec;
  c.Exec(fmt::format("DROP TABLE IF EXISTS {}", ctx_.shadow));
  // LIKE copies names, types, NOT NULLs, collations, defaults (a serial's nextval keeps
  // calling the same sequence), CHECKs, storage and comments; no indexes yet, so the copy
  // writes the heap only.
  c.Exec(fmt::format(
      "CREATE {}TABLE {} (LIKE {} INCLUDING DEFAULTS INCLUDING CONSTRAINTS INCLUDING STORAGE "
      "INCLUDING COMMENTS INCLUDING COMPRESSION INCLUDING IDENTITY INCLUDING GENERATED)",
      persistence, ctx_.shadow, ctx_.live));
  // An autovacuum of the new heap (2 M inserted rows invite one) would hold a lock the swap
  // needs, for seconds: W1's swap failed five attempts in a row on it, each holding the
  // application for lock_timeout. The heap is analyzed by the copy; vacuum waits for the
  // swap.
  c.Exec(fmt::format("ALTER TABLE {} SET (autovacuum_enabled = false)", ctx_.shadow));
  for (const auto& a : spec.added) {
    c.Exec(fmt::format("ALTER TABLE {} ADD COLUMN {} {}", ctx_.shadow, c.Ident(a.name), a.type));
  }
  for (const auto& r : spec.retyped) {
    // The new heap is empty: no rewrite, and its CHECKs and defaults are re-checked for the
    // new type now rather than at the swap.
    c.Exec(fmt::format("ALTER TABLE {} ALTER COLUMN {} TYPE {}", ctx_.shadow, c.Ident(r.name),
                       r.type));
  }
  AlignIdentitySequences(c);
  ChangeLogDdl log =
      ChangeLogSql(c, spec.key_columns, ctx_.log, spec.log_function, ctx_.live, ctx_.key.types);
  for (const auto& sql : log.prepare) c.Exec(sql);
  ctx_.checkpoint.InAttempt([&] {
    ctx_.checkpoint.SetStage(Stage::kCopy);
    ctx_.checkpoint["rows_done"] = 0;
    ctx_.checkpoint["rows_total"] = total;
    ctx_.Save(total);
    // Last: the log's triggers lock the live table against the application's writes until
    // this transaction commits, so only the commit runs while they hold it (a peak of the time
    // the new heap took to make, at every load, where it ran first).
    c.Run(log.attach);
  });
}

void NewHeap::AlignIdentitySequences(pg::Connection& c) {
  for (const pg::IdentityBounds& b : pg::IdentitySequenceBounds(c, ctx_.live, ctx_.shadow)) {
    std::string bound = b.ascending ? (b.max_is_type_max ? " NO MAXVALUE" : "")
                                    : (b.min_is_type_min ? " NO MINVALUE" : "");
    // Both names come from the catalog: a quoted qualified name and a format_type keyword.
    c.Exec(fmt::format("ALTER SEQUENCE {} AS {}{}", b.sequence, b.column_type, bound));
  }
}

}  // namespace zerodown::engine::shadow
