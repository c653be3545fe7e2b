// Small helpers the operation planners share: the checks every operation repeats (table and
// column exist, names free) with errors that carry the field and the fix.
#pragma once

#include <fmt/format.h>

#include <string>

#include "zerodown/engine/operation.hpp"
#include "zerodown/engine/shadow_copy.hpp"
#include "zerodown/pg/catalog.hpp"

namespace zerodown::engine::ops {

inline Result<VirtualColumn*> RequireColumn(VirtualTable& table, const std::string& column,
                                            std::string_view field) {
  if (auto* c = table.FindColumn(column)) return c;
  std::string names;
  for (const auto& c : table.columns) names += (names.empty() ? "" : ", ") + c.name;
  return Error(ErrorKind::kNotFound,
               fmt::format("column \"{}\" does not exist in table \"{}\"", column, table.name),
               fmt::format("The table has: {}.", names))
      .WithWhere(fmt::format("field {}", field));
}

inline Status RequireNoColumn(VirtualTable& table, const std::string& column,
                              std::string_view field) {
  if (table.FindColumn(column) == nullptr) return {};
  return Error(ErrorKind::kInvalidMigration,
               fmt::format("column \"{}\" already exists in table \"{}\"", column, table.name),
               "Pick another name, or drop the existing column in an earlier migration.")
      .WithWhere(fmt::format("field {}", field));
}

inline Status RequireNoTable(PlanContext& context, const std::string& table,
                             std::string_view field) {
  if (context.FindTable(table) == nullptr) return {};
  return Error(ErrorKind::kInvalidMigration,
               fmt::format("table \"{}\" already exists in schema \"{}\"", table, context.schema()),
               "Pick another name.")
      .WithWhere(fmt::format("field {}", field));
}

// Whether a table, index, view or other relation of the run's schema has this name now.
inline bool RelationExists(PlanContext& context, const std::string& name) {
  return pg::RelationNamed(context.conn(), context.schema(), name);
}

// Start creates tables and adds columns while everything the migration renames or drops still
// has its old name (renames and drops run at complete). A name that is free in the new version
// but still taken physically would make CREATE … IF NOT EXISTS a no-op, and rollback would then
// drop the original with its rows: refused (and RequireNoColumnYet for columns).
inline Status RequireNoRelationYet(PlanContext& context, const std::string& name,
                                   std::string_view field) {
  if (!RelationExists(context, name)) return {};
  return Error(ErrorKind::kInvalidMigration,
               fmt::format("\"{}\" still names a table, index or other relation in schema \"{}\" "
                           "until this migration completes (an earlier operation renames or "
                           "drops it at complete)",
                           name, context.schema()),
               "Create it in the next migration, after this one completes, or pick another name.")
      .WithWhere(fmt::format("field {}", field));
}

inline Status RequireNoColumnYet(PlanContext& context, const VirtualTable& table,
                                 const std::string& column, std::string_view field) {
  if (!pg::ColumnNamed(context.conn(), context.Qualified(table), column)) return {};
  return Error(ErrorKind::kInvalidMigration,
               fmt::format("table \"{}\" still has a column \"{}\" until this migration "
                           "completes (an earlier operation renames or drops it at complete)",
                           table.name, column),
               "Add it in the next migration, after this one completes, or pick another name.")
      .WithWhere(fmt::format("field {}", field));
}

// An earlier run's copy or old heap under the names this one's copy of `table` uses: the swap
// would fail on it, and a rollback would take it for this run's and swap it back in. Refused,
// with how to remove it.
inline Status RequireNoCopyLeftovers(PlanContext& context, const VirtualTable& table) {
  ShadowCopySpec spec =
      ShadowCopySpec::Named(context.schema(), table.physical, context.migration());
  for (const std::string& name : {spec.shadow, spec.retired}) {
    if (!RelationExists(context, name)) continue;
    return Error(ErrorKind::kInvalidMigration,
                 fmt::format("table \"{}\" of schema \"{}\" is left over from an earlier copy of "
                             "\"{}\": this migration's copy needs the name",
                             name, context.schema(), table.name),
                 fmt::format("When `zerodown status` shows no migration in progress, nothing "
                             "uses it: drop it (DROP TABLE {}) and run the command again.",
                             context.conn().Ident(context.schema(), name)))
        .WithWhere("field table");
  }
  return {};
}

// The table as complete finds it when this operation's catalog changes run. Complete runs the
// operations in order and each gives its table and columns their final names, so an earlier
// operation's rename is done by then: complete actions name the table (and columns) as the
// virtual schema does at planning time, start and rollback actions by their physical names.
// Exception: VALIDATE CONSTRAINT actions run first in complete (planner.cpp), so they use the
// physical names.
inline std::string CompleteQualified(PlanContext& context, const VirtualTable& table) {
  return context.conn().Ident(context.schema(), table.name);
}

inline bool IsKeyColumn(const VirtualTable& table, const VirtualColumn& column) {
  for (const auto& k : table.key_columns) {
    if (k == column.physical) return true;
  }
  return false;
}

// The first action of a backfill over `table` (fires the row triggers on every row in key order).
inline Action BackfillAction(PlanContext& context, const VirtualTable& table, std::string_view id,
                             std::string what) {
  Action action;
  action.id = context.ActionId(id);
  action.kind = ActionKind::kBackfill;
  action.description = fmt::format("backfill {} in key-ordered batches", what);
  action.lock = "ROW EXCLUSIVE; each batch holds its rows' locks for about one chunk time";
  action.schema = context.schema();
  action.table = table.physical;
  action.key_columns = table.key_columns;
  return action;
}

// The start action that copies `table` into a new heap as `spec` says and swaps it in.
inline Action ShadowCopyAction(PlanContext& context, const VirtualTable& table,
                               const ShadowCopySpec& spec, std::string description) {
  Action action;
  action.id = context.ActionId("shadow_copy");
  action.kind = ActionKind::kShadowCopy;
  action.description = std::move(description);
  action.lock =
      "SHARE ROW EXCLUSIVE to add the change-log trigger (instant); none while copying; ACCESS "
      "EXCLUSIVE for the swap (renames and the last log entries: milliseconds, under "
      "lock_timeout, retried)";
  action.schema = context.schema();
  action.table = table.physical;
  action.key_columns = table.key_columns;
  action.detail = spec.ToJson();
  for (const auto& sql : spec.after_swap_sql) action.sql.push_back("-- at the swap: " + sql);
  return action;
}

inline Error NeedsKey(const VirtualTable& table) {
  return Error(ErrorKind::kInvalidMigration,
               fmt::format("table \"{}\" has no primary key, so its rows cannot be backfilled in "
                           "batches",
                           table.name),
               "Add a primary key first (create a unique index CONCURRENTLY, then ADD PRIMARY KEY "
               "USING INDEX).");
}

}  // namespace zerodown::engine::ops
