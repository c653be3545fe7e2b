#include "engine/ops/index_duplication.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <nlohmann/json.hpp>

#include "zerodown/sql/index_definition.hpp"

namespace zerodown::engine::ops {

namespace {

// Every index of a table with what complete must restore, and the columns it reads: its key and
// INCLUDE columns (indkey) and, for expressions and predicates, the columns it depends on
// (pg_depend; PostgreSQL records them for those only).
constexpr const char* kIndexes =
    "SELECT ic.relname, pg_get_indexdef(i.indexrelid), i.indisprimary, i.indisvalid, "
    "coalesce(k.conname::text, ''), coalesce(k.contype::text, ''), "
    "coalesce(k.condeferrable, false), coalesce(k.condeferred, false), "
    "obj_description(i.indexrelid, 'pg_class'), obj_description(k.oid, 'pg_constraint'), "
    "i.indisclustered, i.indisreplident, "
    "to_json(ARRAY(SELECT a.attname FROM pg_attribute a WHERE a.attrelid = i.indrelid AND "
    "a.attnum > 0 AND (a.attnum = ANY (i.indkey) OR a.attnum IN (SELECT d.refobjsubid FROM "
    "pg_depend d WHERE d.classid = 'pg_class'::regclass AND d.objid = i.indexrelid AND "
    "d.refclassid = 'pg_class'::regclass AND d.refobjid = i.indrelid)) ORDER BY a.attnum))::text, "
    "i.indexrelid::oid::text FROM pg_index i JOIN pg_class ic ON ic.oid = i.indexrelid "
    "LEFT JOIN pg_constraint k ON k.conindid = i.indexrelid AND k.conrelid = i.indrelid "
    "AND k.contype IN ('p', 'u', 'x') "
    "WHERE i.indrelid = $1::regclass ORDER BY ic.relname";

pg::Rows ReadIndexes(PlanContext& context, const VirtualTable& table) {
  pg::Connection& conn = context.conn();
  // With only pg_catalog on the search path the definitions name the table and any function
  // with its schema, so they build the same index whatever the executor's search_path.
  pg::Transaction read(conn);
  conn.Exec("SELECT set_config('search_path', 'pg_catalog', true)");
  pg::Rows rows = conn.Exec(kIndexes, {context.Qualified(table)});
  read.Rollback();
  return rows;
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

}  // namespace

Status IndexDuplication::Validate(PlanContext& context, const VirtualTable& table,
                                  const std::map<std::string, std::string>& copies,
                                  const std::optional<std::string>& dropping,
                                  const std::string& field) {
  pg::Connection& conn = context.conn();
  pg::Rows rows = ReadIndexes(context, table);
  for (int r = 0; r < rows.size(); ++r) {
    Duplicate d;
    d.name = rows.Text(r, 0);
    d.constraint = rows.Text(r, 4);
    auto columns = nlohmann::json::parse(rows.Text(r, 12)).get<std::vector<std::string>>();
    bool reads_copied = std::any_of(columns.begin(), columns.end(),
                                    [&](const std::string& c) { return copies.count(c) > 0; });
    if (!reads_copied) continue;
    if (dropping && (d.name == *dropping || d.constraint == *dropping)) continue;
    std::string type = rows.Text(r, 5);
    if (rows.Bool(r, 2)) {
      return CannotCarry(d.name, "it is the primary key",
                         "Change the key column with a type-only alter_column, or with `sql`.",
                         field);
    }
    if (type == "x") {
      return CannotCarry(d.name, fmt::format("it backs exclusion constraint \"{}\"", d.constraint),
                         "Drop the constraint in an earlier migration (drop_constraint) and "
                         "create it again after this one.",
                         field);
    }
    if (!rows.Bool(r, 3)) {
      return CannotCarry(
          d.name, "it is invalid (a CREATE INDEX CONCURRENTLY that failed)",
          fmt::format("Drop it (DROP INDEX CONCURRENTLY {}) or rebuild it "
                      "(REINDEX INDEX CONCURRENTLY {}) first.",
                      conn.Ident(context.schema(), d.name), conn.Ident(context.schema(), d.name)),
          field);
    }
    for (const auto& c : columns) {
      bool mapped = copies.count(c) > 0 ||
                    std::any_of(table.columns.begin(), table.columns.end(),
                                [&](const VirtualColumn& v) { return v.physical == c; });
      if (mapped) continue;
      return CannotCarry(d.name,
                         fmt::format("it also reads column \"{}\", which an earlier operation of "
                                     "this migration copies or drops",
                                     c),
                         "Change each column of the index in a migration of its own.", field);
    }
    // By oid: a name that needs no quoting, as libpg_query 15 deparses index names unquoted.
    d.temp = "_zd_dup_" + rows.Text(r, 13);
    auto create = sql::RewriteIndexDefinition(rows.Text(r, 1), {d.temp, copies});
    if (!create.ok()) return create.error().WithWhere(fmt::format("field {}", field));
    d.create_sql = *create;
    d.deferrable = rows.Bool(r, 6);
    d.deferred = rows.Bool(r, 7);
    d.index_comment = rows.Optional(r, 8);
    d.constraint_comment = rows.Optional(r, 9);
    d.clustered = rows.Bool(r, 10);
    d.replica_identity = rows.Bool(r, 11);
    duplicates_.push_back(std::move(d));
  }
  return {};
}

void IndexDuplication::PlanStart(PlanContext& context) const {
  pg::Connection& conn = context.conn();
  for (const auto& d : duplicates_) {
    // The temporary name keeps a half-built index recognisable as ours: a rerun after a failed
    // build drops it first.
    Action build;
    build.id = context.ActionId("index_" + d.name);
    build.kind = ActionKind::kNonTransactional;
    build.description =
        fmt::format("build {} concurrently on the copies, as {} is built", d.temp, d.name);
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
    std::string index = conn.Ident(context.schema(), d.name);
    if (d.constraint.empty()) {
      sql.push_back(fmt::format("ALTER INDEX {} RENAME TO {}", conn.Ident(context.schema(), d.temp),
                                conn.Ident(d.name)));
    } else {
      // Attaching renames the index to the constraint's name, as the original was named.
      sql.push_back(fmt::format("ALTER TABLE {} ADD CONSTRAINT {} UNIQUE USING INDEX {}{}{}",
                                at_complete, conn.Ident(d.constraint), conn.Ident(d.temp),
                                d.deferrable ? " DEFERRABLE" : "",
                                d.deferred ? " INITIALLY DEFERRED" : ""));
      if (d.constraint_comment) {
        sql.push_back(fmt::format("COMMENT ON CONSTRAINT {} ON {} IS {}", conn.Ident(d.constraint),
                                  at_complete, conn.Literal(*d.constraint_comment)));
      }
    }
    if (d.index_comment) {
      sql.push_back(
          fmt::format("COMMENT ON INDEX {} IS {}", index, conn.Literal(*d.index_comment)));
    }
    if (d.clustered) {
      sql.push_back(fmt::format("ALTER TABLE {} CLUSTER ON {}", at_complete, conn.Ident(d.name)));
    }
    if (d.replica_identity) {
      sql.push_back(fmt::format("ALTER TABLE {} REPLICA IDENTITY USING INDEX {}", at_complete,
                                conn.Ident(d.name)));
    }
  }
  return sql;
}

}  // namespace zerodown::engine::ops
