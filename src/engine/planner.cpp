#include "zerodown/engine/planner.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <cstdint>
#include <functional>

#include "engine/version_grants.hpp"
#include "zerodown/engine/operation.hpp"
#include "zerodown/pg/catalog.hpp"
#include "zerodown/pg/catalog_schemas.hpp"

namespace zerodown::engine {

VirtualColumn* VirtualTable::FindColumn(std::string_view column) {
  auto it = std::find_if(columns.begin(), columns.end(),
                         [&](const VirtualColumn& c) { return c.name == column; });
  return it == columns.end() ? nullptr : &*it;
}

PlanContext::PlanContext(pg::Connection& conn, std::string schema, std::string migration_name,
                         std::string version_schema)
    : conn_(conn), schema_(std::move(schema)), migration_(std::move(migration_name)) {
  plan_.version_schema = std::move(version_schema);
  for (const auto& name : pg::ListTables(conn_, schema_)) {
    auto info = pg::DescribeTable(conn_, schema_, name);
    if (!info) continue;
    VirtualTable table{name, name, {}, info->primary_key, false};
    for (const auto& c : info->columns) {
      table.columns.push_back(
          {c.name, c.name, c.type, !c.not_null, std::nullopt, false, c.default_expr});
    }
    tables_.emplace(name, std::move(table));
  }
}

Result<VirtualTable*> PlanContext::Table(const std::string& name) {
  if (auto* table = FindTable(name)) return table;
  return Error(ErrorKind::kNotFound,
               fmt::format("table \"{}\" does not exist in schema \"{}\"", name, schema_),
               "Check the table name, or pass --schema if the table lives in another schema.");
}

VirtualTable* PlanContext::FindTable(const std::string& name) {
  auto it = tables_.find(name);
  return it == tables_.end() ? nullptr : &it->second;
}

void PlanContext::AddTable(VirtualTable table) {
  std::string name = table.name;
  tables_.insert_or_assign(name, std::move(table));
}

void PlanContext::RemoveTable(const std::string& name) { tables_.erase(name); }

std::string PlanContext::Qualified(const VirtualTable& table) const {
  return conn_.Ident(schema_, table.physical);
}

std::string PlanContext::TempName(std::string_view prefix, std::string_view base) {
  std::string name = std::string(prefix) + std::string(base);
  if (name.size() <= 63) return name;
  // Keep names unique when truncated: a short hash of the full name replaces the tail.
  std::size_t hash = std::hash<std::string>{}(name);
  return name.substr(0, 54) + fmt::format("_{:08x}", static_cast<std::uint32_t>(hash));
}

std::string PlanContext::ActionId(std::string_view suffix) const {
  return fmt::format("{}.{}", operation_index_, suffix);
}

void PlanContext::AddStart(Action action) { plan_.start.push_back(std::move(action)); }
void PlanContext::AddComplete(Action action) { plan_.complete.push_back(std::move(action)); }
void PlanContext::AddRollback(std::vector<Action> actions) {
  plan_.rollback.insert(plan_.rollback.begin(), actions.begin(), actions.end());
}

Action PlanContext::Ddl(std::string_view id, std::string description, std::string lock,
                        std::vector<std::string> sql) const {
  Action action;
  action.id = ActionId(id);
  action.kind = ActionKind::kTransactional;
  action.description = std::move(description);
  action.lock = std::move(lock);
  action.sql = std::move(sql);
  return action;
}

Status PlanContext::CheckType(const std::string& type, std::string_view field) {
  if (pg::CanonicalType(conn_, type)) return {};
  return Error(ErrorKind::kNotFound, fmt::format("type \"{}\" does not exist", type),
               "Use a type the server knows (e.g. bigint, text, numeric(10,2), timestamptz), or "
               "create it in an earlier migration.")
      .WithWhere(fmt::format("field {}", field));
}

std::string PlanContext::SelectAs(const VirtualTable& table,
                                  const std::vector<VirtualColumn>& columns) const {
  std::string select;
  for (const auto& c : columns) {
    if (!select.empty()) select += ", ";
    if (c.pending || table.created) {
      select += fmt::format("CAST(NULL AS {}) AS {}", c.type, conn_.Ident(c.name));
    } else {
      select += conn_.Ident(c.physical) + " AS " + conn_.Ident(c.name);
    }
  }
  return select;
}

Status PlanContext::CheckExpression(const VirtualTable& table,
                                    const std::vector<VirtualColumn>& columns,
                                    const std::string& expression, const std::string& type,
                                    std::string_view field) {
  std::string select = SelectAs(table, columns);
  std::string from = table.created ? "" : " FROM " + Qualified(table);
  std::string sql = fmt::format("EXPLAIN SELECT CAST(({}) AS {}) FROM (SELECT {}{}) AS t",
                                expression, type, select, from);
  pg::Transaction tx(conn_);
  auto result = conn_.TryExec(sql);
  tx.Rollback();
  if (result.ok()) return {};
  std::string names;
  for (const auto& c : columns) names += (names.empty() ? "" : ", ") + c.name;
  // pgroll compiles up and down only when a row is written, so a file it accepts can hold an
  // expression that fails every write; zerodown refuses it before anything changes.
  return Error(ErrorKind::kInvalidMigration,
               fmt::format("the expression `{}` does not compile: {}", expression,
                           result.error().message()),
               fmt::format("Write it as an SQL expression over the columns of \"{}\" as that "
                           "version names them ({}), e.g. `CAST(abalance AS bigint)` or "
                           "`COALESCE(name, 'unknown')`.",
                           table.name, names))
      .WithWhere(fmt::format("field {}", field));
}

std::string VersionSchemaName(const model::Migration& migration, const std::string& schema) {
  if (migration.version_schema) return *migration.version_schema;
  return PlanContext::TempName("", schema + "_" + migration.name);
}

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

// A VALIDATE CONSTRAINT scans the table: it must never run in a transaction that already holds
// ACCESS EXCLUSIVE, so it is never merged with catalog changes.
bool Validates(const Action& action) {
  return std::any_of(action.sql.begin(), action.sql.end(), [](const std::string& sql) {
    return sql.find("VALIDATE CONSTRAINT") != std::string::npos;
  });
}

bool IsValidate(const Action& action) {
  return action.kind == ActionKind::kTransactional && Validates(action);
}

// A VALIDATE of a constraint that only exists once the catalog changes ran (a check added by a
// swap): it goes last, so it neither splits a run of catalog changes nor scans under their lock.
bool IsLateValidate(const Action& action) {
  return action.kind == ActionKind::kNonTransactional && Validates(action);
}

// Complete in two steps. First the VALIDATE scans, which block no reads or writes (they name the
// tables physically: nothing is renamed yet). Then each run of catalog changes in one
// transaction: a sync trigger binds every column of its table by name, so a rename or a column
// swap committed on its own would leave another operation's trigger naming a column that is
// gone, and every write to the table would fail until that operation's own swap committed.
std::vector<Action> ArrangeComplete(const std::vector<Action>& actions) {
  std::vector<Action> arranged;
  for (const auto& a : actions) {
    if (IsValidate(a)) arranged.push_back(a);
  }
  bool merging = false;
  for (const auto& a : actions) {
    if (IsValidate(a) || IsLateValidate(a)) continue;
    if (a.kind == ActionKind::kTransactional && merging) {
      Action& into = arranged.back();
      into.id += "+" + a.id;
      into.description += "; " + a.description;
      // The merged transaction takes every lock its parts take: `plan` must show the strongest.
      if (into.lock.find(a.lock) == std::string::npos) into.lock += "; " + a.lock;
      into.sql.insert(into.sql.end(), a.sql.begin(), a.sql.end());
      continue;
    }
    arranged.push_back(a);
    merging = a.kind == ActionKind::kTransactional;
  }
  for (const auto& a : actions) {
    if (IsLateValidate(a)) arranged.push_back(a);
  }
  return arranged;
}

// Validates and plans each operation in order on one virtual schema.
Status PlanOperations(PlanContext& context, const model::Migration& migration) {
  for (std::size_t i = 0; i < migration.operations.size(); ++i) {
    const auto& operation = migration.operations[i];
    std::string where = fmt::format("{}, operation {} ({})", migration.source, i + 1,
                                    model::OperationName(operation));
    auto planner = MakePlanner(operation);
    if (!planner.ok()) return planner.error().WithWhere(where);
    context.SetOperationIndex(static_cast<int>(i + 1));
    context.SetOperationWhere(where);
    Status valid = planner.value()->Validate(context);
    if (!valid.ok()) return valid.error().WithWhere(where);
    planner.value()->Plan(context);
  }
  return {};
}

// A migration of rebuilds that change no column.
bool PhysicalOnly(const model::Migration& migration) {
  return !migration.operations.empty() &&
         std::all_of(migration.operations.begin(), migration.operations.end(),
                     [](const model::Operation& op) {
                       const auto* rebuild = std::get_if<model::RebuildTable>(&op);
                       return rebuild != nullptr && rebuild->columns.empty();
                     });
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

}  // namespace

Result<Plan> PlanMigration(pg::Connection& conn, const model::Migration& migration,
                           const PlanOptions& options) {
  if (!pg::SchemaExists(conn, options.schema)) {
    return Error(ErrorKind::kNotFound, fmt::format("schema \"{}\" does not exist", options.schema),
                 "Pass --schema with the schema your tables live in.")
        .WithWhere(migration.source);
  }
  std::string version = VersionSchemaName(migration, options.schema);
  PlanContext context(conn, options.schema, migration.name, version);
  context.SetMechanism(options.mechanism);
  std::vector<std::string> known = pg::ListTables(conn, options.schema);
  if (Status planned = PlanOperations(context, migration); !planned.ok()) return planned.error();
  Plan plan = context.plan();
  // Read-only checks of the data go before the first change, so that a row the migration cannot
  // take stops start while the database is still untouched.
  std::stable_partition(plan.start.begin(), plan.start.end(),
                        [](const Action& a) { return a.kind == ActionKind::kDataCheck; });
  if (PhysicalOnly(migration)) {
    // A rebuild changes no column: every application keeps the version it uses now, so the
    // current version schema stays (a new one would retire it at complete).
    plan.version_schema = options.previous_version_schema.value_or(options.schema);
    plan.complete = ArrangeComplete(plan.complete);
    return plan;
  }
  if (Status valid = CheckVersionSchema(conn, migration, options, version); !valid.ok()) {
    return valid.error();
  }
  PlanVersionSchema(context, plan, options, version, std::move(known));
  plan.complete = ArrangeComplete(plan.complete);
  return plan;
}

}  // namespace zerodown::engine
