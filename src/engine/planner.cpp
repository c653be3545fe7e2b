#include "zerodown/engine/planner.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <functional>

#include "engine/version_schema.hpp"
#include "zerodown/engine/operation.hpp"
#include "zerodown/pg/catalog.hpp"

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
