// The actions ColumnDuplication emits: at start the copies, their trigger and constraints, the
// fill (backfill or shadow copy) and the unique indexes; at complete the validations and the swap
// of copies for originals; at rollback the drop of the copies.
#include "engine/ops/column_duplication.hpp"
#include "engine/ops/index_sql.hpp"
#include "engine/ops/op_support.hpp"
#include "engine/sync_trigger.hpp"

namespace zerodown::engine::ops {

void ColumnDuplication::Plan(PlanContext& context) {
  VirtualTable& table = *context.FindTable(table_);
  SyncTrigger sync = BuildTrigger(context, table);
  std::string names = CopiesNames();
  NotNullChecks not_null = PlanNotNullChecks(context, table);
  std::vector<std::string> after_add = sync.create_sql;
  after_add.insert(after_add.end(), not_null.add.begin(), not_null.add.end());
  PlanAddCopies(context, table, after_add, names);
  PlanForeignKeys(context, table);
  if (!shadow_) {
    context.AddStart(BackfillAction(context, table, "backfill",
                                    fmt::format("the copies of {} in {}", names, table.physical)));
  }
  PlanUniqueIndexes(context, table);
  indexes_.PlanStart(context);

  PlanValidations(context, table, not_null.validate);
  std::string swapped;
  for (const auto& p : columns_) swapped += (swapped.empty() ? "" : ", ") + p.change.column;
  context.AddComplete(
      context.Ddl("swap", fmt::format("drop the originals of {} and rename the copies", swapped),
                  "ACCESS EXCLUSIVE, catalog only (milliseconds)",
                  SwapSql(context, table, sync.complete_drop_sql)));
  PlanCheckValidations(context, table);
  PlanRollback(context, table, sync.drop_sql, swapped);

  for (const auto& p : columns_) {
    context.plan().checks.push_back(VerifyCheck(context, table, p));
  }
  if (!table.created) AddDataChecks(context, Probe(context, table));
  TakeCopies(table);
}

// One trigger for every copy: up fills each copy from the old version's writes, down each
// original from the new version's, and the carried checks hold the copies.
SyncTrigger ColumnDuplication::BuildTrigger(PlanContext& context, const VirtualTable& table) {
  pg::Connection& conn = context.conn();
  std::vector<SyncSpec> specs;
  for (const auto& p : columns_) {
    SyncSpec spec;
    spec.old_column = p.old_physical;
    spec.new_column = p.new_physical;
    spec.up = p.change.up.value_or(conn.Ident(p.change.column));
    spec.down = p.change.down.value_or(conn.Ident(p.change.column));
    spec.mode = SyncMode::kBoth;
    spec.old_version_columns = old_columns_;
    spec.new_version_columns = new_columns_;
    specs.push_back(std::move(spec));
  }
  std::vector<TriggerCheck> trigger_checks;
  for (const auto& check : checks_) {
    trigger_checks.push_back({check.name, check.expression, new_columns_});
  }
  return BuildSyncTrigger(context, table, specs, trigger_checks).ValueOrThrow();
}

std::string ColumnDuplication::CopiesNames() const {
  std::string names;
  for (const auto& p : columns_) {
    names += fmt::format("{}{} ({}) beside {}", names.empty() ? "" : ", ", p.new_physical,
                         p.new_type, p.old_physical);
  }
  return names;
}

ColumnDuplication::NotNullChecks ColumnDuplication::PlanNotNullChecks(
    PlanContext& context, const VirtualTable& table) const {
  pg::Connection& conn = context.conn();
  std::string qualified = context.Qualified(table);
  NotNullChecks checks;
  for (const auto& p : columns_) {
    if (!p.not_null) continue;
    // NOT VALID: instant. Validated on complete without blocking writes, after which SET NOT
    // NULL needs no scan (PostgreSQL 12+).
    std::string check = PlanContext::TempName("_zd_nn_", p.new_physical);
    checks.add.push_back(
        fmt::format("ALTER TABLE {} ADD CONSTRAINT {} CHECK ({} IS NOT NULL) NOT VALID", qualified,
                    conn.Ident(check), conn.Ident(p.new_physical)));
    checks.validate.push_back(
        fmt::format("ALTER TABLE {} VALIDATE CONSTRAINT {}", qualified, conn.Ident(check)));
  }
  return checks;
}

// The later operations of the migration see each copy as the column.
void ColumnDuplication::TakeCopies(VirtualTable& table) const {
  for (const auto& p : columns_) {
    VirtualColumn& column = *table.FindColumn(p.change.column);
    column.physical = p.new_physical;
    column.type = p.new_type;
    column.nullable = !p.not_null;
    column.pending = true;
    column.view_default = p.final_default;
  }
}

// Copies, trigger and NOT NULL checks in one transaction: a check without the trigger would
// reject the old version's writes, which leave the copies NULL.
void ColumnDuplication::PlanAddCopies(PlanContext& context, const VirtualTable& table,
                                      const std::vector<std::string>& after_add,
                                      const std::string& names) {
  if (shadow_) {
    // The copies are born full in the new heap; the trigger and checks arrive with the swap.
    context.AddStart(PlanShadowCopy(context, table, after_add, names));
    return;
  }
  pg::Connection& conn = context.conn();
  std::vector<std::string> add;
  for (const auto& p : columns_) {
    add.push_back(fmt::format("ALTER TABLE {} ADD COLUMN IF NOT EXISTS {} {}",
                              context.Qualified(table), conn.Ident(p.new_physical), p.new_type));
  }
  add.insert(add.end(), after_add.begin(), after_add.end());
  context.AddStart(context.Ddl(
      "add_column",
      fmt::format("add {} to {}, with the trigger keeping them in step{}", names, table.physical,
                  mechanism_note_.empty() ? "" : " [" + mechanism_note_ + "]"),
      "ACCESS EXCLUSIVE, instant (no default, no rewrite)", add));
}

void ColumnDuplication::PlanForeignKeys(PlanContext& context, const VirtualTable& table) {
  pg::Connection& conn = context.conn();
  std::string qualified = context.Qualified(table);
  for (const auto& key : foreign_keys_) {
    std::string set_columns =
        key.on_delete_set_columns.empty()
            ? ""
            : " (" + IdentList(conn, CopiesOf(key.on_delete_set_columns)) + ")";
    // NOT VALID: checks every write from now on (the old version's too, through up) without
    // scanning the table; complete validates the rows that were there before.
    context.AddStart(context.Ddl(
        fmt::format("foreign_key_{}", key.name),
        fmt::format("add foreign key {} NOT VALID on the copies", key.name),
        "SHARE ROW EXCLUSIVE on the table and the referenced table, instant (NOT VALID: no scan)",
        {fmt::format("ALTER TABLE {} ADD CONSTRAINT {} FOREIGN KEY ({}) REFERENCES {} ({}) MATCH "
                     "{} ON DELETE {}{} ON UPDATE {}{}{} NOT VALID",
                     qualified, conn.Ident(key.name), IdentList(conn, CopiesOf(key.columns)),
                     conn.Ident(context.schema(), key.table),
                     IdentList(conn, key.referenced_columns), model::ToString(key.match_type),
                     model::ToString(key.on_delete), set_columns, model::ToString(key.on_update),
                     key.deferrable ? " DEFERRABLE" : "",
                     key.initially_deferred ? " INITIALLY DEFERRED" : "")}));
  }
}

void ColumnDuplication::PlanUniqueIndexes(PlanContext& context, VirtualTable& table) {
  for (const auto& unique : uniques_) {
    // Built after the backfill, so the build sees every row once; the temporary name keeps a
    // half-built index recognisable as ours, and the constraint renames it on complete.
    UniqueIndexBuild build;
    build.name = PlanContext::TempName("_zd_uq_", unique.name);
    build.columns = CopiesOf(unique.columns);
    build.nulls_not_distinct = unique.nulls_not_distinct;
    build.parameters = unique.parameters;
    context.AddStart(UniqueIndexBuildAction(
        context, table, "unique_index_" + unique.name,
        fmt::format("build unique index {} concurrently on the copies", build.name), build));
  }
}

// The planner runs every VALIDATE of complete first, before any rename, under the physical
// names: a failure then leaves the migration where it was, and rollback still works.
void ColumnDuplication::PlanValidations(PlanContext& context, const VirtualTable& table,
                                        const std::vector<std::string>& validate_not_null) {
  pg::Connection& conn = context.conn();
  if (!validate_not_null.empty()) {
    context.AddComplete(context.Ddl(
        "validate", "validate NOT NULL of the copies",
        "SHARE UPDATE EXCLUSIVE while it scans (reads and writes go on)", validate_not_null));
  }
  for (const auto& key : foreign_keys_) {
    context.AddComplete(context.Ddl(
        fmt::format("validate_{}", key.name), fmt::format("validate foreign key {}", key.name),
        "SHARE UPDATE EXCLUSIVE on the table and ROW SHARE on the referenced table while it "
        "scans (reads and writes go on)",
        {fmt::format("ALTER TABLE {} VALIDATE CONSTRAINT {}", context.Qualified(table),
                     conn.Ident(key.name))}));
  }
}

// Complete's catalog changes name the table and columns as this operation sees them: the
// earlier operations' renames are done by then.
std::vector<std::string> ColumnDuplication::SwapSql(PlanContext& context, const VirtualTable& table,
                                                    std::vector<std::string> swap) const {
  pg::Connection& conn = context.conn();
  std::string at_complete = CompleteQualified(context, table);
  for (const auto& p : columns_) {
    const std::string& column = p.change.column;
    for (const auto& sequence : p.owned_sequences) {
      // Otherwise dropping the original drops the sequence the default still calls.
      swap.push_back(fmt::format("ALTER SEQUENCE {} OWNED BY {}.{}", sequence, at_complete,
                                 conn.Ident(p.new_physical)));
    }
    swap.push_back(fmt::format("ALTER TABLE {} DROP COLUMN {}", at_complete, conn.Ident(column)));
    swap.push_back(fmt::format("ALTER TABLE {} RENAME COLUMN {} TO {}", at_complete,
                               conn.Ident(p.new_physical), conn.Ident(column)));
    if (p.final_default) {
      swap.push_back(fmt::format("ALTER TABLE {} ALTER COLUMN {} SET DEFAULT {}", at_complete,
                                 conn.Ident(column), *p.final_default));
    }
    if (p.not_null) {
      swap.push_back(fmt::format("ALTER TABLE {} ALTER COLUMN {} SET NOT NULL", at_complete,
                                 conn.Ident(column)));
      swap.push_back(fmt::format("ALTER TABLE {} DROP CONSTRAINT IF EXISTS {}", at_complete,
                                 conn.Ident(PlanContext::TempName("_zd_nn_", p.new_physical))));
    }
    if (p.final_comment) {
      swap.push_back(fmt::format("COMMENT ON COLUMN {}.{} IS {}", at_complete, conn.Ident(column),
                                 conn.Literal(*p.final_comment)));
    }
  }
  for (const auto& unique : uniques_) {
    swap.push_back(fmt::format("ALTER TABLE {} ADD CONSTRAINT {} UNIQUE USING INDEX {}",
                               at_complete, conn.Ident(unique.name),
                               conn.Ident(PlanContext::TempName("_zd_uq_", unique.name))));
  }
  auto carried = indexes_.CompleteSql(context, at_complete);
  swap.insert(swap.end(), carried.begin(), carried.end());
  for (const auto& key : foreign_keys_) {
    // The original went with its column above; the copy's key takes its name.
    if (!key.carried_from.empty()) {
      swap.push_back(fmt::format("ALTER TABLE {} RENAME CONSTRAINT {} TO {}", at_complete,
                                 conn.Ident(key.name), conn.Ident(key.carried_from)));
    }
  }
  for (const auto& check : checks_) {
    // Only now do the expression's names name physical columns; NOT VALID keeps this instant,
    // the trigger has held every row to it since start, and the validation below proves it.
    swap.push_back(fmt::format("ALTER TABLE {} ADD CONSTRAINT {} CHECK ({}){} NOT VALID",
                               at_complete, conn.Ident(check.name), check.expression,
                               check.no_inherit ? " NO INHERIT" : ""));
  }
  return swap;
}

void ColumnDuplication::PlanCheckValidations(PlanContext& context, const VirtualTable& table) {
  std::string at_complete = CompleteQualified(context, table);
  for (const auto& check : checks_) {
    if (!check.validate) continue;  // carried from a check that was NOT VALID itself
    // After the swap, on its own and outside the swap's transaction: the constraint only exists
    // from the swap on, and a scan must never run under the swap's ACCESS EXCLUSIVE. Run as a
    // non-transactional action so that the planner, which runs transactional VALIDATEs before
    // any rename, leaves it here (VALIDATE of a valid constraint is a no-op, so a rerun is safe).
    Action validate;
    validate.id = context.ActionId("validate_" + check.name);
    validate.kind = ActionKind::kNonTransactional;
    validate.description = fmt::format("validate check {}", check.name);
    validate.lock = "SHARE UPDATE EXCLUSIVE while it scans (reads and writes go on)";
    validate.sql = {fmt::format("ALTER TABLE {} VALIDATE CONSTRAINT {}", at_complete,
                                context.conn().Ident(check.name))};
    context.AddComplete(validate);
  }
}

// The copies' index, foreign keys and NOT NULL checks go with them.
void ColumnDuplication::PlanRollback(PlanContext& context, const VirtualTable& table,
                                     std::vector<std::string> undo, const std::string& swapped) {
  pg::Connection& conn = context.conn();
  for (const auto& p : columns_) {
    undo.push_back(fmt::format("ALTER TABLE {} DROP COLUMN IF EXISTS {}", context.Qualified(table),
                               conn.Ident(p.new_physical)));
  }
  if (shadow_) {
    // Before the swap: the log, its trigger and the half-filled heap; after it: the old heap,
    // if it is still there. The live table keeps every original column either way.
    auto cleanup = ShadowCopySpec::Named(context.schema(), table.physical, context.migration())
                       .CleanupSql(conn);
    undo.insert(undo.end(), cleanup.begin(), cleanup.end());
  }
  context.AddRollback(
      {context.Ddl("drop_new_column", fmt::format("drop the trigger and the copies of {}", swapped),
                   "ACCESS EXCLUSIVE, catalog only", undo)});
}

}  // namespace zerodown::engine::ops
