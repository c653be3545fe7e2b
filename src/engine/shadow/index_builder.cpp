#include "engine/shadow/index_builder.hpp"

#include <fmt/format.h>

#include <algorithm>

#include "engine/crash_point.hpp"

namespace zerodown::engine::shadow {

void IndexBuilder::BuildIndex(pg::Connection& c, const IndexToBuild& index,
                              const std::string& live_text) {
  std::string marker = " ON " + live_text + " ";
  std::size_t at = index.definition.find(marker);
  if (at == std::string::npos) {
    throw Error(ErrorKind::kInternal, fmt::format("cannot read the definition of index {}: {}",
                                                  index.name, index.definition));
  }
  std::string head = index.definition.rfind("CREATE UNIQUE INDEX", 0) == 0 ? "CREATE UNIQUE INDEX"
                                                                           : "CREATE INDEX";
  std::string temp = c.Ident(TempIndexName(index));
  // The default 64 MB sorts a 2 M-row integer key on disk; 256 MB sorts it in memory, about a
  // quarter less work (measured on W1's table). Never lowered; local to this transaction.
  c.Exec(
      "SELECT set_config('maintenance_work_mem', greatest(pg_size_bytes(current_setting("
      "'maintenance_work_mem')), 256 * 1024 * 1024) / 1024 || 'kB', true)");
  if (!ctx_.options.parallel_index_builds)
    c.Exec("SELECT set_config('max_parallel_maintenance_workers', '0', true)");
  c.Exec(fmt::format("DROP INDEX IF EXISTS {}", c.Ident(ctx_.spec.schema, TempIndexName(index))));
  c.Exec(fmt::format("{} {} ON {} {}", head, temp, ctx_.shadow,
                     index.definition.substr(at + marker.size())));
  if (!index.constraint.empty()) {
    // Attached now under the temporary name, renamed at the swap: the swap only renames.
    c.Exec(fmt::format("ALTER TABLE {} ADD CONSTRAINT {} {} USING INDEX {}{}{}", ctx_.shadow, temp,
                       index.constraint == "p" ? "PRIMARY KEY" : "UNIQUE", temp,
                       index.deferrable ? " DEFERRABLE" : "",
                       index.deferred ? " INITIALLY DEFERRED" : ""));
  }
  auto built = ctx_.checkpoint.value("indexes_built", std::vector<std::string>{});
  built.push_back(index.oid);
  ctx_.checkpoint["indexes_built"] = built;
}

int IndexBuilder::BuildMissing(bool beyond_key) {
  std::vector<IndexToBuild> indexes;
  std::string live_text;
  {
    pg::Transaction tx(ctx_.conn);
    indexes = LiveIndexes(ctx_.conn, ctx_);
    live_text = LiveText(ctx_.conn, ctx_.live);
    tx.Commit();
  }
  int n = 0;
  int built_now = 0;
  for (const auto& index : indexes) {
    ++n;
    auto built = ctx_.checkpoint.value("indexes_built", std::vector<std::string>{});
    if (index.beyond_key != beyond_key ||
        std::find(built.begin(), built.end(), index.oid) != built.end()) {
      continue;
    }
    ctx_.progress.OnCopyStage(CopyStage::kIndexBuild, ctx_.spec.table);
    ctx_.progress.OnMessage(
        fmt::format("building index {} on the copy of {} ({}/{}){}", index.name, ctx_.spec.table, n,
                    indexes.size(), beyond_key ? ", now that the copy is one moment of it" : ""));
    // One statement of seconds: asked before it, as the copy asks before each chunk.
    if (ctx_.options.chunks.before_batch) ctx_.options.chunks.before_batch();
    pg::Transaction tx(ctx_.conn);
    BuildIndex(ctx_.conn, index, live_text);
    ctx_.Save();
    tx.Commit();
    ++built_now;
    CrashPoint("index");
  }
  return built_now;
}

void IndexBuilder::BuildIndexes() {
  auto started = Clock::now();
  BuildMissing(/*beyond_key=*/false);
  // Fresh statistics before the application's queries plan against the new heap.
  ctx_.conn.Run(fmt::format("ANALYZE {}", ctx_.shadow));
  ctx_.checkpoint.SetStage(Stage::kCatchup);
  {
    pg::Transaction tx(ctx_.conn);
    ctx_.Save();
    tx.Commit();
  }
  ctx_.report.index_seconds = SecondsSince(started);
}

}  // namespace zerodown::engine::shadow
