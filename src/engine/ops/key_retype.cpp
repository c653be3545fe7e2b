#include "engine/ops/key_retype.hpp"

#include "engine/ops/op_support.hpp"
#include "zerodown/pg/catalog.hpp"

namespace zerodown::engine::ops {

namespace {

Error Refused(std::string message, std::string fix) {
  return Error(ErrorKind::kInvalidMigration, std::move(message), std::move(fix))
      .WithWhere("field type");
}

}  // namespace

Status KeyRetype::Validate(PlanContext& context, const std::string& table,
                           const std::string& column, const std::string& type,
                           const std::optional<std::string>& up,
                           const std::optional<std::string>& down) {
  table_ = table;
  column_ = column;
  VirtualTable& t = *context.FindTable(table);
  pg::Connection& conn = context.conn();
  if (t.created) {
    return Refused(fmt::format("table \"{}\" is created by this migration", t.name),
                   "Give the key its type in create_table.");
  }
  if (context.mechanism() == Mechanism::kInPlace) {
    return Refused(
        fmt::format("column \"{}\" is part of the primary key of \"{}\": its type changes only "
                    "by copying the table into a new heap",
                    column, t.name),
        "Run without --mechanism=inplace (auto or shadow).");
  }
  if (Status s = context.CheckType(type, "type"); !s.ok()) return s;
  type_ = *pg::CanonicalType(conn, type);
  const VirtualColumn& c = *t.FindColumn(column);
  if (type_ == c.type) {
    return Refused(fmt::format("column \"{}\" is already of type {}", column, type_),
                   "Remove the operation, or name the type the key should have.");
  }
  if (down && *down != column && *down != conn.Ident(column)) {
    return Error(ErrorKind::kInvalidMigration,
                 fmt::format("`down` of key column \"{}\" is `{}`", column, *down),
                 fmt::format("Leave `down` out or write `{}`: a rollback after the swap converts "
                             "the key back with CAST, and a key computed otherwise could collide.",
                             column))
        .WithWhere("field down");
  }
  up_ = up.value_or(fmt::format("CAST({} AS {})", conn.Ident(column), type_));
  if (Status s = context.CheckExpression(t, t.columns, up_, type_, up ? "up" : "type"); !s.ok()) {
    return s;
  }
  if (up) {
    if (Status s = CheckKeepsValues(context, t); !s.ok()) return s;
  }
  if (Status s = CheckCopyable(context, t); !s.ok()) return s;
  if (Status s = RequireNoCopyLeftovers(context, t); !s.ok()) return s;
  auto info = pg::DescribeTable(conn, context.schema(), t.physical);
  compared_columns_.clear();
  for (const auto& col : info ? info->columns : std::vector<pg::ColumnInfo>{}) {
    compared_columns_.push_back(col.name);
  }
  return {};
}

// The catch-up finds each row's copy by the key's value: an `up` that changes values (id * 2)
// would make it delete another row's copy. Tried on the table's first rows.
Status KeyRetype::CheckKeepsValues(PlanContext& context, const VirtualTable& t) const {
  pg::Connection& conn = context.conn();
  std::string select = context.SelectAs(t, t.columns);
  constexpr int kTried = 10000;
  pg::Transaction tx(conn);
  auto differ = conn.TryExec(fmt::format(
      "SELECT count(*) FROM (SELECT {} FROM {} LIMIT {}) AS t WHERE CAST(({}) AS {}) IS "
      "DISTINCT FROM CAST({} AS {})",
      select, context.Qualified(t), kTried, up_, type_, conn.Ident(column_), type_));
  tx.Rollback();
  if (differ.ok() && differ.value().Int(0, 0) == 0) return {};
  return Error(
             ErrorKind::kInvalidMigration,
             fmt::format("`up` of key column \"{}\" does not keep the key's values: {}", column_,
                         differ.ok() ? fmt::format("{} of the table's first {} rows get "
                                                   "another value than CAST({} AS {})",
                                                   differ.value().Int(0, 0), kTried, column_, type_)
                                     : differ.error().message()),
             fmt::format("Leave `up` out, or write a cast of the column (`CAST({} AS {})`): "
                         "the copy's catch-up finds each row's copy by the key's value.",
                         column_, type_))
      .WithWhere("field up");
}

Status KeyRetype::CheckCopyable(PlanContext& context, const VirtualTable& t) const {
  pg::Connection& conn = context.conn();
  std::vector<std::string> blockers = ShadowCopyBlockers(conn, context.schema(), t.physical);
  for (const auto& view : pg::ViewsOverViews(conn, context.Qualified(t))) {
    blockers.push_back(fmt::format("view {} reads a view of it", view));
  }
  if (blockers.empty()) return {};
  std::string why;
  for (const auto& b : blockers) why += (why.empty() ? "" : ", ") + b;
  return Refused(fmt::format("the key of table \"{}\" changes type by copying the table into a "
                             "new heap, which it cannot be: {}",
                             t.name, why),
                 "Remove what blocks the copy first, or change the key in a maintenance window "
                 "with a plain ALTER TABLE.");
}

void KeyRetype::Plan(PlanContext& context) {
  VirtualTable& table = *context.FindTable(table_);
  pg::Connection& conn = context.conn();
  VirtualColumn& column = *table.FindColumn(column_);
  ShadowCopySpec spec = CopySpec(context, table, column);
  TableEstimate e = EstimateTable(conn, context.schema(), table.physical);
  Action copy = ShadowCopyAction(
      context, table, spec,
      fmt::format("copy {} (~{} rows, {:.0f} MB + {:.0f} MB of indexes) into a new heap with key "
                  "column {} as {}, build its indexes, replay the change log, swap it in; the old "
                  "heap stays, reverse-logged, until complete",
                  table.physical, e.rows, e.table_bytes / 1048576.0, e.index_bytes / 1048576.0,
                  column.physical, type_));
  context.AddStart(copy);

  std::vector<std::string> cleanup = spec.CleanupSql(conn);
  context.AddComplete(context.Ddl(
      "drop_old_heap", fmt::format("drop the old heap of {} and its reverse log", table.physical),
      "ACCESS EXCLUSIVE on the old heap (nothing uses it); the reverse-log trigger's drop takes "
      "the table's lock for an instant",
      cleanup));
  context.AddRollback(
      {SwapBackAction(context, table, spec, copy.id),
       context.Ddl("drop_copy",
                   fmt::format("drop the new heap of {} and the change logs", table.physical),
                   "ACCESS EXCLUSIVE on the unused heap only, instant", cleanup)});

  // What `zerodown verify` compares after start: every row of the old heap against the new one,
  // and every row of the new heap against the old one (each walked by its own key index, so a
  // row missing on either side shows); keys written since the swap differ by design and are
  // skipped (a rollback replays them).
  context.plan().checks.push_back(HeapCheck(context, table, spec, /*from_old=*/true));
  context.plan().checks.push_back(HeapCheck(context, table, spec, /*from_old=*/false));
  column.type = type_;
}

ShadowCopySpec KeyRetype::CopySpec(PlanContext& context, const VirtualTable& table,
                                   const VirtualColumn& column) const {
  ShadowCopySpec spec =
      ShadowCopySpec::Named(context.schema(), table.physical, context.migration());
  spec.key_columns = table.key_columns;
  spec.retyped.push_back({column.physical, type_, up_});
  spec.keep_old_heap = true;
  for (const auto& c : table.columns) {
    spec.names.push_back({c.pending ? "" : c.physical, c.name, c.type});
  }
  return spec;
}

Action KeyRetype::SwapBackAction(PlanContext& context, const VirtualTable& table,
                                 const ShadowCopySpec& spec, const std::string& copy_id) const {
  Action back;
  back.id = context.ActionId("swap_back");
  back.kind = ActionKind::kShadowSwapBack;
  back.description = fmt::format(
      "replay the writes made since the swap into the old heap of {} and swap it back in",
      table.physical);
  back.lock =
      "ACCESS EXCLUSIVE on the table and the old heap for the swap back (milliseconds, "
      "under lock_timeout, retried)";
  back.schema = context.schema();
  back.table = table.physical;
  back.key_columns = table.key_columns;
  back.detail = {{"spec", spec.ToJson()}, {"start_action", copy_id}};
  return back;
}

ColumnCheck KeyRetype::HeapCheck(PlanContext& context, const VirtualTable& table,
                                 const ShadowCopySpec& spec, bool from_old) const {
  pg::Connection& conn = context.conn();
  std::string live = context.Qualified(table);
  std::string old_heap = conn.Ident(context.schema(), spec.retired);
  const std::string& from = from_old ? old_heap : live;
  const std::string& other = from_old ? live : old_heap;
  std::string keys;
  std::string join;
  std::string logged;
  for (const auto& key : table.key_columns) {
    std::string n = conn.Ident(key);
    keys += fmt::format("{}f.{} AS {}", keys.empty() ? "" : ", ", n, n);
    join += fmt::format("{}x.{} = f.{}", join.empty() ? "" : " AND ", n, n);
    logged += fmt::format("{}l.{} = f.{}", logged.empty() ? "" : " AND ", n, n);
  }
  std::string from_row;
  std::string other_row;
  for (const auto& c : compared_columns_) {
    from_row += (from_row.empty() ? "" : ", ") + ("f." + conn.Ident(c));
    other_row += (other_row.empty() ? "" : ", ") + ("x." + conn.Ident(c));
  }
  std::string here = fmt::format("ROW({})::text", from_row);
  std::string there =
      fmt::format("(SELECT ROW({})::text FROM {} AS x WHERE {})", other_row, other, join);
  ColumnCheck check;
  check.description = fmt::format(
      "{}: every row of the {} heap against the {} one (keys written since the swap skipped)",
      table.name, from_old ? "old" : "new", from_old ? "new" : "old");
  check.schema = context.schema();
  check.table = from_old ? spec.retired : table.physical;
  check.key_columns = table.key_columns;
  check.select_sql = fmt::format(
      "SELECT {}, {} AS expected, {} AS actual FROM {} AS f WHERE NOT EXISTS (SELECT 1 FROM {} "
      "AS l WHERE {})",
      keys, from_old ? here : there, from_old ? there : here, from,
      conn.Ident("zerodown", spec.reverse_log_table), logged);
  return check;
}

}  // namespace zerodown::engine::ops
