#include "engine/shadow/new_heap.hpp"

#include <fmt/format.h>

#include "engine/shadow/change_log.hpp"
#include "zerodown/pg/catalog.hpp"

namespace zerodown::engine::shadow {

void NewHeap::Create() {
  std::int64_t total = pg::EstimatedRows(ctx_.conn, ctx_.live);
  std::string persistence =
      ctx_.conn
              .Exec("SELECT relpersistence = 'u' FROM pg_class WHERE oid = $1::regclass",
                    {ctx_.live})
              .Bool(0, 0)
          ? "UNLOGGED "
          : "";
  const ShadowCopySpec& spec = ctx_.spec;
  ctx_.Retry("install the change log on " + spec.table, [&](pg::Connection& c) {
    for (const auto& sql : ChangeLogSql(c, spec.key_columns, ctx_.log, spec.log_function, ctx_.live,
                                        ctx_.key.types)) {
      c.Exec(sql);
    }
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
    ctx_.checkpoint.SetStage(Stage::kCopy);
    ctx_.checkpoint["rows_done"] = 0;
    ctx_.checkpoint["rows_total"] = total;
    ctx_.Save(total);
  });
}

void NewHeap::AlignIdentitySequences(pg::Connection& c) {
  pg::Rows rows = c.Exec(
      "SELECT pg_get_serial_sequence($2::text, a.attname), format_type(n.atttypid, NULL), "
      "q.seqincrement > 0, q.seqmax = CASE q.seqtypid WHEN 'int2'::regtype THEN 32767 WHEN "
      "'int4'::regtype THEN 2147483647 ELSE 9223372036854775807 END, q.seqmin = CASE "
      "q.seqtypid WHEN 'int2'::regtype THEN -32768 WHEN 'int4'::regtype THEN -2147483648 ELSE "
      "-9223372036854775808 END FROM pg_attribute a JOIN pg_sequence q ON q.seqrelid = "
      "pg_get_serial_sequence($1::text, a.attname)::regclass JOIN pg_attribute n ON n.attrelid = "
      "$2::regclass AND n.attname = a.attname WHERE a.attrelid = $1::regclass AND a.attnum > 0 "
      "AND NOT a.attisdropped AND a.attidentity <> ''",
      {ctx_.live, ctx_.shadow});
  for (int r = 0; r < rows.size(); ++r) {
    bool ascending = rows.Bool(r, 2);
    std::string bound = ascending ? (rows.Bool(r, 3) ? " NO MAXVALUE" : "")
                                  : (rows.Bool(r, 4) ? " NO MINVALUE" : "");
    // Both names come from the catalog: a quoted qualified name and a format_type keyword.
    c.Exec(fmt::format("ALTER SEQUENCE {} AS {}{}", rows.Text(r, 0), rows.Text(r, 1), bound));
  }
}

}  // namespace zerodown::engine::shadow
