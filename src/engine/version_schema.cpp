#include "engine/version_schema.hpp"

#include <fmt/format.h>

#include <cstdint>

#include "engine/version_grants.hpp"
#include "zerodown/pg/catalog.hpp"
#include "zerodown/pg/catalog_schemas.hpp"

namespace zerodown::engine {

namespace {

// A version schema holds zerodown's views and nothing else, and start, rollback and the next
// complete drop it with CASCADE. The guard makes that drop fail, naming the schema and the first
// object in the way, if anything else is in it or depends on it, instead of taking it along.
std::vector<std::string> DropVersionSchemaSql(pg::Connection& conn, const std::string& schema) {
  std::string name = conn.Literal(schema);
  return {fmt::format(
              "DO $zd_guard$ DECLARE what text; BEGIN "
              "SELECT pg_describe_object(d.classid, d.objid, d.objsubid) INTO what {0} LIMIT 1; "
              "IF what IS NOT NULL THEN RAISE EXCEPTION 'schema % holds objects other than "
              "views (%): zerodown drops only the version schemas it made', {2}, what USING HINT "
              "= 'Move them to another schema, then run the command again.'; END IF; "
              "SELECT pg_describe_object(d.classid, d.objid, d.objsubid) INTO what {1} LIMIT 1; "
              "IF what IS NOT NULL THEN RAISE EXCEPTION '% depends on a view of the version "
              "schema %, which is to be dropped', what, {2} USING HINT = 'Drop it, or make it "
              "read the tables instead, then run the command again.'; END IF; END $zd_guard$",
              pg::ObjectsOtherThanViewsClause(name), pg::DependentsOutsideClause(name), name),
          fmt::format("DROP SCHEMA IF EXISTS {} CASCADE", conn.Ident(schema))};
}

// The schemas whose migrations made `version` their version schema (none before `init`).
std::vector<std::string> VersionOwners(pg::Connection& conn, const std::string& version) {
  std::vector<std::string> owners;
  if (!pg::RelationExists(conn, "zerodown.migrations")) return owners;
  pg::Rows rows = conn.Exec(
      "SELECT DISTINCT schema FROM zerodown.migrations WHERE plan->>'version_schema' = $1 ORDER "
      "BY 1",
      {version});
  for (int i = 0; i < rows.size(); ++i) owners.push_back(rows.Text(i, 0));
  return owners;
}

// The new version's views: one per table, showing each column under the name the new version
// uses. Simple views like these are auto-updatable, so the new version writes through them.
// `known` holds the physical tables the plan accounts for (existing before start, or created by
// it); any other table at start time was made by the migration's raw SQL and is shown as it is,
// except zerodown's own heaps (_zd_*: the old heap a key change keeps until complete).
std::vector<Action> VersionSchemaActions(PlanContext& context,
                                         const std::vector<std::string>& known) {
  pg::Connection& conn = context.conn();
  const std::string& version = context.plan().version_schema;
  Action create{"views",
                ActionKind::kTransactional,
                fmt::format("create version schema {} with one view per table", version),
                "ACCESS SHARE on each table, instant",
                {},
                {},
                {},
                {},
                {}};
  create.sql = DropVersionSchemaSql(conn, version);
  create.sql.push_back(fmt::format("CREATE SCHEMA {}", conn.Ident(version)));
  for (const auto& [name, table] : context.tables()) {
    std::string columns;
    for (const auto& c : table.columns) {
      if (!columns.empty()) columns += ", ";
      columns += c.physical == c.name ? conn.Ident(c.name)
                                      : conn.Ident(c.physical) + " AS " + conn.Ident(c.name);
    }
    std::string view = conn.Ident(version, name);
    create.sql.push_back(fmt::format("CREATE VIEW {} AS SELECT {} FROM {}", view, columns,
                                     context.Qualified(table)));
    for (const auto& c : table.columns) {
      if (c.view_default) {
        create.sql.push_back(fmt::format("ALTER VIEW {} ALTER COLUMN {} SET DEFAULT {}", view,
                                         conn.Ident(c.name), *c.view_default));
      }
    }
  }
  std::string names;
  for (const auto& name : known) names += (names.empty() ? "" : ", ") + conn.Literal(name);
  create.sql.push_back(fmt::format(
      "DO $zd_views$ DECLARE r record; BEGIN FOR r IN SELECT c.relname FROM pg_class c JOIN "
      "pg_namespace n ON n.oid = c.relnamespace WHERE n.nspname = {schema} AND c.relkind IN ('r', "
      "'p') AND c.relname <> ALL (ARRAY[{names}]::text[]) AND c.relname NOT LIKE '\\_zd\\_%' LOOP "
      "EXECUTE format('CREATE VIEW %I.%I "
      "AS SELECT * FROM %I.%I', {version}, r.relname, {schema}, r.relname); END LOOP; END "
      "$zd_views$",
      fmt::arg("schema", conn.Literal(context.schema())), fmt::arg("names", names),
      fmt::arg("version", conn.Literal(version))));
  std::vector<RenamedView> renamed;
  for (const auto& [name, table] : context.tables()) {
    RenamedView r{name, table.physical, {}};
    for (const auto& c : table.columns) {
      if (c.physical != c.name) r.columns.emplace_back(c.name, c.physical);
    }
    if (r.table != r.view || !r.columns.empty()) renamed.push_back(std::move(r));
  }
  create.sql.push_back(VersionGrantsSql(conn, context.schema(), version, renamed));
  return {create};
}

}  // namespace

// The new version's schema is dropped with everything in it on rollback (and re-created on a
// rerun of start): it must not be the tables' schema, the version applications use now, or a
// schema that holds anything but views.
Status CheckVersionSchema(pg::Connection& conn, const model::Migration& migration,
                          const PlanOptions& options, const std::string& version) {
  std::string where = migration.version_schema
                          ? fmt::format("{}, field version_schema", migration.source)
                          : migration.source;
  std::string fix =
      migration.version_schema
          ? "Name a schema of its own in `version_schema`, or leave the key out: zerodown then "
            "names it <schema>_<migration>."
          : "Set `version_schema` in the migration file to a name no schema has.";
  if (version == options.schema) {
    return Error(ErrorKind::kInvalidMigration,
                 fmt::format("the version schema \"{}\" is the schema the tables live in; a "
                             "rollback would drop it with every table in it",
                             version),
                 fix)
        .WithWhere(where);
  }
  if (options.previous_version_schema && version == *options.previous_version_schema) {
    return Error(ErrorKind::kInvalidMigration,
                 fmt::format("the version schema \"{}\" is the version applications use now; "
                             "the new version needs a schema of its own",
                             version),
                 fix)
        .WithWhere(where);
  }
  // Whose version it is, when the schema exists: one migration file run per tenant with the same
  // version_schema would re-create the other tenant's live version over this schema's tables,
  // and a schema of views zerodown did not make (an API schema written by hand) would lose them.
  if (pg::SchemaExists(conn, version)) {
    std::vector<std::string> owners = VersionOwners(conn, version);
    for (const auto& owner : owners) {
      if (owner == options.schema) continue;
      return Error(ErrorKind::kInvalidMigration,
                   fmt::format("the version schema \"{}\" is in use by the migrations of schema "
                               "\"{}\"; start would re-create it over schema \"{}\"",
                               version, owner, options.schema),
                   fix)
          .WithWhere(where);
    }
    std::int64_t objects = pg::ObjectsInSchema(conn, version);
    if (owners.empty() && objects > 0) {
      return Error(ErrorKind::kInvalidMigration,
                   fmt::format("schema \"{}\" already exists and holds {} object{} zerodown did "
                               "not make; as the version schema it would be dropped with them",
                               version, objects, objects == 1 ? "" : "s"),
                   fix)
          .WithWhere(where);
    }
  }
  if (std::int64_t others = pg::ObjectsOtherThanViewsInSchema(conn, version); others > 0) {
    return Error(ErrorKind::kInvalidMigration,
                 fmt::format("schema \"{}\" already exists and holds {} object{} other than "
                             "views; as the version schema it would be dropped with them",
                             version, others, others == 1 ? "" : "s"),
                 fix)
        .WithWhere(where);
  }
  return {};
}

// The new version schema's views at start; at rollback their drop, first (they pin the
// columns); at complete the drop of the previous version's.
void PlanVersionSchema(PlanContext& context, Plan& plan, const PlanOptions& options,
                       const std::string& version, std::vector<std::string> known) {
  pg::Connection& conn = context.conn();
  for (const auto& [name, table] : context.tables()) {
    if (table.created) known.push_back(table.physical);
  }
  auto views = VersionSchemaActions(context, known);
  plan.start.insert(plan.start.end(), views.begin(), views.end());

  Action drop_new{"views",
                  ActionKind::kTransactional,
                  fmt::format("drop version schema {}", version),
                  "none on tables, instant",
                  DropVersionSchemaSql(conn, version),
                  {},
                  {},
                  {},
                  {}};
  plan.rollback.insert(plan.rollback.begin(), drop_new);
  // A rebuild that changed no column keeps the version it ran under, which is the tables'
  // schema itself when no migration made one before it: that one is never retired.
  if (options.previous_version_schema && *options.previous_version_schema != version &&
      *options.previous_version_schema != options.schema) {
    Action drop_old{
        "previous_views",
        ActionKind::kTransactional,
        fmt::format("drop the previous version schema {}", *options.previous_version_schema),
        "none on tables, instant",
        DropVersionSchemaSql(conn, *options.previous_version_schema),
        {},
        {},
        {},
        {}};
    plan.complete.insert(plan.complete.begin(), drop_old);
  }
}

}  // namespace zerodown::engine
