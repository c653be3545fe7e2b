#include "engine/ops/index_duplication.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <optional>

#include "zerodown/pg/catalog_indexes.hpp"
#include "zerodown/sql/index_definition.hpp"

namespace zerodown::engine::ops {

namespace {

using IndexRow = pg::IndexDetail;

std::vector<IndexRow> ReadIndexes(PlanContext& context, const VirtualTable& table) {
  pg::Connection& conn = context.conn();
  // With only pg_catalog on the search path the definitions name the table and any function
  // with its schema, so they build the same index whatever the executor's search_path.
  pg::Transaction read(conn);
  conn.Exec("SELECT set_config('search_path', 'pg_catalog', true)");
  std::vector<IndexRow> indexes = pg::IndexDetails(conn, context.Qualified(table));
  read.Rollback();
  return indexes;
}

Error CannotCarry(const std::string& index, const std::string& why, std::string fix,
                  const std::string& field) {
  return Error(ErrorKind::kInvalidMigration,
               fmt::format("index \"{}\" over the changed column cannot be carried over to its "
                           "copy: {}",
                           index, why),
               std::move(fix))
      .WithWhere(fmt::format("field {}", field));
}

// kInvalidMigration when `index` cannot be built again over the copies.
Status RequireCarriable(PlanContext& context, const VirtualTable& table, const IndexRow& index,
                        const std::map<std::string, std::string>& copies,
                        const std::string& field) {
  if (index.primary) {
    return CannotCarry(index.name, "it is the primary key",
                       "Change the key column with a type-only alter_column, or with `sql`.",
                       field);
  }
  if (index.constraint_type == 'x') {
    return CannotCarry(index.name,
                       fmt::format("it backs exclusion constraint \"{}\"", index.constraint),
                       "Drop the constraint in an earlier migration (drop_constraint) and "
                       "create it again after this one.",
                       field);
  }
  if (!index.valid) {
    std::string qualified = context.conn().Ident(context.schema(), index.name);
    return CannotCarry(index.name, "it is invalid (a CREATE INDEX CONCURRENTLY that failed)",
                       fmt::format("Drop it (DROP INDEX CONCURRENTLY {}) or rebuild it "
                                   "(REINDEX INDEX CONCURRENTLY {}) first.",
                                   qualified, qualified),
                       field);
  }
  for (const auto& c : index.columns) {
    bool mapped =
        copies.count(c) > 0 || std::any_of(table.columns.begin(), table.columns.end(),
                                           [&](const VirtualColumn& v) { return v.physical == c; });
    if (mapped) continue;
    return CannotCarry(index.name,
                       fmt::format("it also reads column \"{}\", which an earlier operation of "
                                   "this migration copies or drops",
                                   c),
                       "Change each column of the index in a migration of its own.", field);
  }
  return {};
}

}  // namespace

Status IndexDuplication::Validate(PlanContext& context, const VirtualTable& table,
                                  const std::map<std::string, std::string>& copies,
                                  const std::optional<std::string>& dropping,
                                  const std::string& field) {
  for (const IndexRow& index : ReadIndexes(context, table)) {
    bool reads_copied = std::any_of(index.columns.begin(), index.columns.end(),
                                    [&](const std::string& c) { return copies.count(c) > 0; });
    if (!reads_copied) continue;
    if (dropping && (index.name == *dropping || index.constraint == *dropping)) continue;
    if (Status s = RequireCarriable(context, table, index, copies, field); !s.ok()) return s;
    // By oid: a name that needs no quoting, as libpg_query 15 deparses index names unquoted.
    std::string temp = "_zd_dup_" + index.oid;
    auto create = sql::RewriteIndexDefinition(index.definition, {temp, copies});
    if (!create.ok()) return create.error().WithWhere(fmt::format("field {}", field));
    duplicates_.push_back({index, std::move(temp), *create});
  }
  return {};
}

void IndexDuplication::PlanStart(PlanContext& context) const {
  pg::Connection& conn = context.conn();
  for (const auto& d : duplicates_) {
    // The temporary name keeps a half-built index recognisable as ours: a rerun after a failed
    // build drops it first.
    Action build;
    build.id = context.ActionId("index_" + d.original.name);
    build.kind = ActionKind::kNonTransactional;
    build.description =
        fmt::format("build {} concurrently on the copies, as {} is built", d.temp, d.original.name);
    build.lock = "SHARE UPDATE EXCLUSIVE while it builds (reads and writes go on)";
    build.sql = {
        fmt::format("DROP INDEX CONCURRENTLY IF EXISTS {}", conn.Ident(context.schema(), d.temp)),
        d.create_sql};
    context.AddStart(build);
  }
}

std::vector<std::string> IndexDuplication::CompleteSql(PlanContext& context,
                                                       const std::string& at_complete) const {
  pg::Connection& conn = context.conn();
  std::vector<std::string> sql;
  for (const auto& d : duplicates_) {
    std::string index = conn.Ident(context.schema(), d.original.name);
    if (d.original.constraint.empty()) {
      sql.push_back(fmt::format("ALTER INDEX {} RENAME TO {}", conn.Ident(context.schema(), d.temp),
                                conn.Ident(d.original.name)));
    } else {
      // Attaching renames the index to the constraint's name, as the original was named.
      sql.push_back(fmt::format("ALTER TABLE {} ADD CONSTRAINT {} UNIQUE USING INDEX {}{}{}",
                                at_complete, conn.Ident(d.original.constraint), conn.Ident(d.temp),
                                d.original.deferrable ? " DEFERRABLE" : "",
                                d.original.deferred ? " INITIALLY DEFERRED" : ""));
      if (d.original.constraint_comment) {
        sql.push_back(fmt::format("COMMENT ON CONSTRAINT {} ON {} IS {}",
                                  conn.Ident(d.original.constraint), at_complete,
                                  conn.Literal(*d.original.constraint_comment)));
      }
    }
    if (d.original.index_comment) {
      sql.push_back(
          fmt::format("COMMENT ON INDEX {} IS {}", index, conn.Literal(*d.original.index_comment)));
    }
    if (d.original.clustered) {
      sql.push_back(
          fmt::format("ALTER TABLE {} CLUSTER ON {}", at_complete, conn.Ident(d.original.name)));
    }
    if (d.original.replica_identity) {
      sql.push_back(fmt::format("ALTER TABLE {} REPLICA IDENTITY USING INDEX {}", at_complete,
                                conn.Ident(d.original.name)));
    }
  }
  return sql;
}

}  // namespace zerodown::engine::ops
