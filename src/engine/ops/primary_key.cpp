#include "engine/ops/primary_key.hpp"

#include "engine/ops/index_sql.hpp"
#include "engine/ops/op_support.hpp"
#include "zerodown/pg/catalog.hpp"

namespace zerodown::engine::ops {

namespace {

std::string IndexName(const PrimaryKeySpec& spec) {
  return PlanContext::TempName("_zd_pk_", spec.name);
}

std::string NotNullCheckName(const std::string& physical) {
  return PlanContext::TempName("_zd_pknn_", physical);
}

}  // namespace

Status PrimaryKeyPlan::Validate(PlanContext& context, PrimaryKeySpec spec, std::string_view field) {
  spec_ = std::move(spec);
  auto found = context.Table(spec_.table);
  if (!found.ok()) return found.error().WithWhere("field table");
  VirtualTable& table = **found;
  if (!table.key_columns.empty()) {
    std::string key;
    for (const auto& k : table.key_columns) key += (key.empty() ? "" : ", ") + k;
    return Error(ErrorKind::kInvalidMigration,
                 fmt::format("table \"{}\" already has a primary key ({}), and a table has only "
                             "one",
                             table.name, key),
                 "Make these columns unique and NOT NULL instead (a unique constraint and "
                 "nullable: false); the existing primary key cannot be dropped online.")
        .WithWhere(fmt::format("field {}", field));
  }
  if (spec_.columns.empty()) {
    return Error(ErrorKind::kInvalidMigration, "a primary key needs at least one column",
                 "List the key's columns under `columns`.")
        .WithWhere(fmt::format("field {}", field));
  }
  physical_.clear();
  for (const auto& c : spec_.columns) {
    auto column = RequireColumn(table, c, field);
    if (!column.ok()) return column.error();
    physical_.push_back((*column)->physical);
  }
  if (spec_.parameters) {
    for (const auto& c : spec_.parameters->include_columns) {
      if (auto r = RequireColumn(table, c, "index_parameters.include_columns"); !r.ok()) {
        return r.error();
      }
    }
  }
  bool taken = RelationExists(context, spec_.name) ||
               pg::ConstraintNamed(context.conn(), context.Qualified(table), spec_.name);
  if (taken) {
    return Error(ErrorKind::kInvalidMigration,
                 fmt::format("the name \"{}\" is taken in schema \"{}\": the primary key's "
                             "constraint and index both take it",
                             spec_.name, context.schema()),
                 "Pick another name for the primary key.")
        .WithWhere("field name");
  }
  return CheckRows(context, table, field);
}

// The index build would fail on a repeated key and the validation at complete on a NULL; both
// are found here, before start changes anything, by the same scans.
Status PrimaryKeyPlan::CheckRows(PlanContext& context, VirtualTable& table,
                                 std::string_view field) {
  if (table.created) return {};
  for (std::size_t i = 0; i < spec_.columns.size(); ++i) {
    const VirtualColumn* c = table.FindColumn(spec_.columns[i]);
    // A column this migration adds or copies holds its values only once start has run.
    if (c->pending || c->physical != c->name) return {};
  }
  pg::Connection& conn = context.conn();
  std::string qualified = context.Qualified(table);
  std::string is_null;
  std::string shown;
  for (const auto& p : physical_) {
    is_null += (is_null.empty() ? "" : " OR ") + conn.Ident(p) + " IS NULL";
    shown += (shown.empty() ? "" : " || ', ' || ") + fmt::format("{}::text", conn.Ident(p));
  }
  std::string list = IdentList(conn, physical_);
  pg::Rows nulls = conn.Exec(fmt::format(
      "SELECT left(row_to_json(t)::text, 300) FROM {} AS t WHERE {} LIMIT 1", qualified, is_null));
  if (!nulls.empty()) {
    return Error(ErrorKind::kInvalidMigration,
                 fmt::format("table \"{}\" has a row with NULL in the primary key's columns ({}): "
                             "{}",
                             table.name, list, nulls.Text(0, 0)),
                 "Fill those rows first (alter_column with nullable: false and `up`), or pick "
                 "columns that hold a value in every row.")
        .WithWhere(fmt::format("field {}", field));
  }
  pg::Rows repeated =
      conn.Exec(fmt::format("SELECT {}, count(*) FROM {} GROUP BY {} HAVING count(*) > 1 LIMIT 1",
                            shown, qualified, list));
  if (!repeated.empty()) {
    return Error(ErrorKind::kInvalidMigration,
                 fmt::format("table \"{}\" holds the key ({}) = ({}) in {} rows, so it cannot be "
                             "the primary key",
                             table.name, list, repeated.Text(0, 0), repeated.Text(0, 1)),
                 "Remove or change the duplicate rows first, or pick columns whose values are "
                 "unique.")
        .WithWhere(fmt::format("field {}", field));
  }
  return {};
}

void PrimaryKeyPlan::Plan(PlanContext& context) {
  VirtualTable& table = *context.FindTable(spec_.table);
  if (table.created) {
    PlanOnNewTable(context, table);
    return;
  }
  std::string columns = IdentList(context.conn(), physical_);
  NotNullSteps not_null = PlanNotNull(context, table);
  if (!not_null.add.empty()) {
    context.AddStart(context.Ddl(
        "primary_key_not_null", fmt::format("add NOT VALID checks that ({}) are NOT NULL", columns),
        "ACCESS EXCLUSIVE, instant (NOT VALID: no scan)", not_null.add));
  }
  std::string index = IndexName(spec_);
  UniqueIndexBuild build;
  build.name = index;
  build.columns = physical_;
  build.parameters = spec_.parameters;
  context.AddStart(UniqueIndexBuildAction(
      context, table, "primary_key_index",
      fmt::format("build unique index {} on ({}) concurrently", index, columns), build));

  if (!not_null.validate.empty()) {
    context.AddComplete(context.Ddl(
        "validate_primary_key_not_null", fmt::format("validate that ({}) are NOT NULL", columns),
        "SHARE UPDATE EXCLUSIVE while it scans (reads and writes go on)", not_null.validate));
  }
  // SET NOT NULL finds the validated check and skips its scan (PostgreSQL 12+); ADD PRIMARY KEY
  // USING INDEX then finds the columns NOT NULL and the index built: catalog only.
  std::vector<std::string> attach = std::move(not_null.attach);
  attach.push_back(fmt::format("ALTER TABLE {} ADD CONSTRAINT {} PRIMARY KEY USING INDEX {}",
                               CompleteQualified(context, table), context.conn().Ident(spec_.name),
                               context.conn().Ident(index)));
  context.AddComplete(context.Ddl("primary_key",
                                  fmt::format("attach {} as primary key {}", index, spec_.name),
                                  "ACCESS EXCLUSIVE, catalog only (milliseconds)", attach));
  PlanRollback(context, index, not_null.drop);
  for (const auto& c : spec_.columns) table.FindColumn(c)->nullable = false;
}

// Nobody uses a table this migration creates: the plain statement locks no one.
void PrimaryKeyPlan::PlanOnNewTable(PlanContext& context, VirtualTable& table) {
  pg::Connection& conn = context.conn();
  std::string columns = IdentList(conn, physical_);
  context.AddStart(context.Ddl(
      "primary_key", fmt::format("add primary key {} ({})", spec_.name, columns),
      "ACCESS EXCLUSIVE on the new table only, instant (nobody uses it yet)",
      {fmt::format(
          "ALTER TABLE {} ADD CONSTRAINT {} PRIMARY KEY ({}){}", context.Qualified(table),
          conn.Ident(spec_.name), columns,
          IndexParameterClauses(conn, table, spec_.parameters, IndexClauses::kConstraint))}));
  table.key_columns = physical_;
  for (const auto& c : spec_.columns) table.FindColumn(c)->nullable = false;
}

PrimaryKeyPlan::NotNullSteps PrimaryKeyPlan::PlanNotNull(PlanContext& context,
                                                         VirtualTable& table) const {
  pg::Connection& conn = context.conn();
  std::string qualified = context.Qualified(table);
  std::string at_complete = CompleteQualified(context, table);
  NotNullSteps steps;
  for (std::size_t i = 0; i < physical_.size(); ++i) {
    const VirtualColumn& c = *table.FindColumn(spec_.columns[i]);
    if (!c.nullable && !c.pending && c.physical == c.name) continue;  // NOT NULL already
    std::string check = conn.Ident(NotNullCheckName(physical_[i]));
    // NOT VALID: instant, and from now on no write may leave the column NULL.
    steps.add.push_back(
        fmt::format("ALTER TABLE {} ADD CONSTRAINT {} CHECK ({} IS NOT NULL) "
                    "NOT VALID",
                    qualified, check, conn.Ident(physical_[i])));
    steps.validate.push_back(
        fmt::format("ALTER TABLE {} VALIDATE CONSTRAINT {}", qualified, check));
    steps.attach.push_back(fmt::format("ALTER TABLE {} ALTER COLUMN {} SET NOT NULL", at_complete,
                                       conn.Ident(spec_.columns[i])));
    steps.attach.push_back(fmt::format("ALTER TABLE {} DROP CONSTRAINT {}", at_complete, check));
    steps.drop.push_back(
        fmt::format("ALTER TABLE {} DROP CONSTRAINT IF EXISTS {}", qualified, check));
  }
  return steps;
}

// The index, then the checks.
void PrimaryKeyPlan::PlanRollback(PlanContext& context, const std::string& index,
                                  const std::vector<std::string>& drop_checks) {
  pg::Connection& conn = context.conn();
  Action drop_index;
  drop_index.id = context.ActionId("drop_primary_key_index");
  drop_index.kind = ActionKind::kNonTransactional;
  drop_index.description = fmt::format("drop unique index {} concurrently", index);
  drop_index.lock = "SHARE UPDATE EXCLUSIVE (reads and writes go on)";
  drop_index.sql = {
      fmt::format("DROP INDEX CONCURRENTLY IF EXISTS {}", conn.Ident(context.schema(), index))};
  std::vector<Action> undo = {drop_index};
  if (!drop_checks.empty()) {
    undo.push_back(context.Ddl("drop_primary_key_not_null", "drop the NOT NULL checks",
                               "ACCESS EXCLUSIVE, instant", drop_checks));
  }
  context.AddRollback(undo);
}

}  // namespace zerodown::engine::ops
