#include "engine/ops/column_duplication.hpp"

#include <algorithm>
#include <map>
#include <set>

#include "engine/ops/op_support.hpp"
#include "engine/sync_trigger.hpp"
#include "zerodown/engine/shadow_copy.hpp"
#include "zerodown/pg/catalog.hpp"

namespace zerodown::engine::ops {

namespace {

constexpr std::string_view kCopyPrefix = "_zd_new_";

bool Contains(const std::vector<std::string>& list, const std::string& value) {
  return std::find(list.begin(), list.end(), value) != list.end();
}

std::string IdentList(pg::Connection& conn, const std::vector<std::string>& names) {
  std::string list;
  for (const auto& n : names) list += (list.empty() ? "" : ", ") + conn.Ident(n);
  return list;
}

Error ColumnInUse(const std::string& column, const std::string& what, std::string fix,
                  const std::string& field) {
  return Error(ErrorKind::kInvalidMigration,
               fmt::format("column \"{}\" is used by {}", column, what), std::move(fix))
      .WithWhere(fmt::format("field {}", field));
}

}  // namespace

Result<std::vector<std::string>> ConstraintColumns(PlanContext& context, VirtualTable& table,
                                                   const std::string& name) {
  auto info = table.created ? std::nullopt
                            : pg::DescribeTable(context.conn(), context.schema(), table.physical);
  const pg::ConstraintInfo* constraint = info ? info->FindConstraint(name) : nullptr;
  if (constraint == nullptr) {
    return Error(ErrorKind::kNotFound,
                 fmt::format("constraint \"{}\" does not exist on table \"{}\"", name, table.name),
                 "Check the name (psql: \\d <table>); a constraint created in this migration can "
                 "only be dropped in a later one.")
        .WithWhere("field name");
  }
  if (constraint->type == 'p') {
    return Error(ErrorKind::kInvalidMigration,
                 fmt::format("constraint \"{}\" is the primary key of \"{}\"", name, table.name),
                 "Dropping a primary key online is not supported yet: every online mechanism here "
                 "walks the table by it.")
        .WithWhere("field name");
  }
  std::vector<std::string> columns;
  for (const auto& physical : constraint->columns) {
    auto it = std::find_if(table.columns.begin(), table.columns.end(),
                           [&](const VirtualColumn& c) { return c.physical == physical; });
    if (it == table.columns.end()) {
      return Error(ErrorKind::kInvalidMigration,
                   fmt::format("constraint \"{}\" uses column \"{}\", which this migration "
                               "drops",
                               name, physical),
                   "Drop the constraint in an earlier migration.")
          .WithWhere("field name");
    }
    columns.push_back(it->name);
  }
  if (columns.empty()) {
    return Error(ErrorKind::kInvalidMigration,
                 fmt::format("constraint \"{}\" uses no column", name),
                 "Drop it with an `sql` operation.")
        .WithWhere("field name");
  }
  return columns;
}

Status ColumnDuplication::Validate(PlanContext& context, const std::string& table,
                                   std::vector<ColumnChange> changes,
                                   const std::optional<std::string>& dropping) {
  table_ = table;
  auto found = context.Table(table);
  if (!found.ok()) return found.error().WithWhere("field table");
  VirtualTable& t = **found;
  if (t.key_columns.empty()) return NeedsKey(t);
  std::set<std::string> seen;
  for (const auto& change : changes) {
    if (!seen.insert(change.column).second) {
      return Error(ErrorKind::kInvalidMigration,
                   fmt::format("column \"{}\" is listed twice", change.column),
                   "List each column once.")
          .WithWhere(fmt::format("field {}", change.column_field));
    }
    if (Status s = ValidateColumn(context, t, change, dropping); !s.ok()) return s;
  }
  old_columns_ = t.columns;
  new_columns_ = t.columns;
  for (auto& p : columns_) {
    for (auto& c : new_columns_) {
      if (c.name != p.change.column) continue;
      c.physical = p.new_physical;
      c.type = p.new_type;
      c.pending = true;
    }
  }
  for (const auto& check : checks_) {  // only carried ones: AddCheck comes after Validate
    if (Status s =
            context.CheckExpression(t, new_columns_, check.expression, "boolean",
                                    changes.empty() ? "column" : changes.front().column_field);
        !s.ok()) {
      return s;
    }
  }
  pg::Connection& conn = context.conn();
  for (const auto& p : columns_) {
    std::string up = p.change.up.value_or(conn.Ident(p.change.column));
    if (Status s = context.CheckExpression(t, old_columns_, up, p.new_type, p.change.up_field);
        !s.ok()) {
      return s;
    }
    std::string down = p.change.down.value_or(conn.Ident(p.change.column));
    if (Status s = context.CheckExpression(t, new_columns_, down, p.old_type, p.change.down_field);
        !s.ok()) {
      return s;
    }
  }
  if (!t.created) {
    std::map<std::string, std::string> copies;
    for (const auto& p : columns_) copies[p.old_physical] = p.new_physical;
    if (Status s = indexes_.Validate(context, t, copies, dropping,
                                     changes.empty() ? "column" : changes.front().column_field);
        !s.ok()) {
      return s;
    }
  }
  if (Status s = ChooseMechanism(context, t); !s.ok() || !shadow_) return s;
  return RequireNoCopyLeftovers(context, t);
}

namespace {

// Rates measured on W1 (2 cores, 8 pgbench clients busy; docs/bench.md): the
// UPDATE backfill rewrites a row and its index entries at about 10k rows/s, the shadow copy moves
// about 100k rows/s, and a sort-built index takes about 1 s per million rows. An idle server
// is several times faster at both; the ratio is what the choice rests on.
constexpr double kInPlaceRowsPerSecond = 10000;
constexpr double kCopyRowsPerSecond = 100000;
constexpr double kIndexRowsPerSecond = 1000000;
// Below this many rows an in-place backfill takes a few seconds and the copy's catalog work
// (a second heap, its indexes, a swap) is not worth it.
constexpr std::int64_t kShadowFromRows = 100000;
// What each way writes, WAL included, per byte of the table's heap and indexes; measured by
// `start` on pgbench_accounts (400,000 rows, 59 MB, idle, full_page_writes off). In place, every
// row and index entry gets a new version (1x, left behind as dead rows) and the WAL of the
// updates (2.5x); the shadow copy writes the new heap and its indexes (1x) and its WAL (1.2x).
// With full_page_writes on, the in-place WAL grows by the pages each checkpoint makes it log whole.
constexpr double kInPlaceWrittenPerByte = 3.5;
constexpr double kShadowWrittenPerByte = 2.3;

std::string Megabytes(double bytes) { return fmt::format("{:.0f} MB", bytes / (1024.0 * 1024.0)); }

}  // namespace

Status ColumnDuplication::ChooseMechanism(PlanContext& context, const VirtualTable& table) {
  Mechanism asked = context.mechanism();
  if (table.created || asked == Mechanism::kInPlace) {
    shadow_ = false;
    mechanism_note_ = table.created ? "" : "in place (--mechanism=inplace)";
    return {};
  }
  TableEstimate e = EstimateTable(context.conn(), context.schema(), table.physical);
  std::vector<std::string> blockers =
      ShadowCopyBlockers(context.conn(), context.schema(), table.physical);
  double rows = static_cast<double>(e.rows);
  double bytes = static_cast<double>(e.table_bytes + e.index_bytes);
  std::string estimate = fmt::format(
      "~{} rows, {} heap + {} in {} index(es); in place ≈ {:.0f} s and ≈ {} written with its WAL, "
      "rewriting every row and index entry of the live heap and leaving ≈ {} of dead rows in it; "
      "shadow copy ≈ {:.0f} s and ≈ {} written with its WAL into a new heap, taking ≈ {} more "
      "disk until the swap drops the old one (rates of a busy 2-core server)",
      e.rows, Megabytes(static_cast<double>(e.table_bytes)),
      Megabytes(static_cast<double>(e.index_bytes)), e.indexes, rows / kInPlaceRowsPerSecond,
      Megabytes(bytes * kInPlaceWrittenPerByte), Megabytes(bytes),
      rows / kCopyRowsPerSecond + rows * e.indexes / kIndexRowsPerSecond,
      Megabytes(bytes * kShadowWrittenPerByte), Megabytes(bytes));
  std::string blocked;
  for (const auto& b : blockers) blocked += (blocked.empty() ? "" : ", ") + b;
  if (!shadow_required_by_.empty()) {
    shadow_ = true;
    mechanism_note_ = fmt::format("shadow copy ({}): {}", shadow_required_by_, estimate);
    return {};
  }
  if (asked == Mechanism::kShadow) {
    if (!blockers.empty()) {
      return Error(
          ErrorKind::kInvalidMigration,
          fmt::format("table \"{}\" cannot be copied into a new heap: {}", table.name, blocked),
          "Run without --mechanism=shadow (or with --mechanism=inplace) to backfill "
          "it in place.");
    }
    shadow_ = true;
    mechanism_note_ = "shadow copy (--mechanism=shadow): " + estimate;
    return {};
  }
  shadow_ = blockers.empty() && e.rows >= kShadowFromRows;
  if (!blockers.empty()) {
    mechanism_note_ =
        fmt::format("in place, as the table cannot be copied ({}): {}", blocked, estimate);
  } else {
    mechanism_note_ = fmt::format("{} (auto, shadow from {} rows): {}",
                                  shadow_ ? "shadow copy" : "in place", kShadowFromRows, estimate);
  }
  return {};
}

Action ColumnDuplication::PlanShadowCopy(PlanContext& context, const VirtualTable& table,
                                         const std::vector<std::string>& after_swap_sql,
                                         const std::string& names) const {
  pg::Connection& conn = context.conn();
  ShadowCopySpec spec =
      ShadowCopySpec::Named(context.schema(), table.physical, context.migration());
  spec.key_columns = table.key_columns;
  for (const auto& p : columns_) {
    spec.added.push_back(
        {p.new_physical, p.new_type, p.change.up.value_or(conn.Ident(p.change.column))});
  }
  for (const auto& c : old_columns_) {
    spec.names.push_back({c.pending ? "" : c.physical, c.name, c.type});
  }
  spec.after_swap_sql = after_swap_sql;
  return ops::ShadowCopyAction(
      context, table, spec,
      fmt::format("copy {} into a new heap with {} filled by up, build its indexes, replay the "
                  "change log, swap it in [{}]",
                  table.physical, names, mechanism_note_));
}

Status ColumnDuplication::ValidateColumn(PlanContext& context, VirtualTable& table,
                                         const ColumnChange& change,
                                         const std::optional<std::string>& dropping) {
  auto column = RequireColumn(table, change.column, change.column_field);
  if (!column.ok()) return column.error();
  const VirtualColumn& c = **column;
  if (IsKeyColumn(table, c)) {
    return Error(ErrorKind::kInvalidMigration,
                 fmt::format("column \"{}\" is part of the primary key of \"{}\"", c.name,
                             table.name),
                 "A primary-key column cannot get a copy (it is the key both versions and the "
                 "copy are kept in step by); changing its type online is not supported yet.")
        .WithWhere(fmt::format("field {}", change.column_field));
  }
  if (c.physical.rfind(kCopyPrefix, 0) == 0) {
    return Error(ErrorKind::kInvalidMigration,
                 fmt::format("column \"{}\" is already copied by an earlier operation of this "
                             "migration",
                             c.name),
                 "Fold both changes into one operation, or put the second one in a migration of "
                 "its own.")
        .WithWhere(fmt::format("field {}", change.column_field));
  }
  if (change.type) {
    if (Status s = context.CheckType(*change.type, change.type_field); !s.ok()) {
      return s;
    }
  }
  Prepared p;
  p.change = change;
  p.old_physical = c.physical;
  p.new_physical = PlanContext::TempName(kCopyPrefix, c.name);
  p.old_type = c.type;
  p.new_type = change.type.value_or(c.type);
  p.not_null = change.nullable ? !*change.nullable : !c.nullable;
  p.final_default =
      change.default_value.IsAbsent()
          ? c.default_expr
          : (change.default_value.HasValue() ? std::optional(change.default_value.value())
                                             : std::nullopt);
  if (change.comment.HasValue()) p.final_comment = change.comment.value();

  if (!table.created && !c.pending) {
    pg::Connection& conn = context.conn();
    auto info = pg::DescribeTable(conn, context.schema(), table.physical);
    if (info) {
      const pg::ColumnInfo* physical = info->FindColumn(c.physical);
      if (physical && (physical->identity || physical->generated)) {
        return Error(ErrorKind::kInvalidMigration,
                     fmt::format("column \"{}\" is an identity or generated column", c.name),
                     "A copy of it cannot be kept in step by a trigger; change it with `sql`.")
            .WithWhere(fmt::format("field {}", change.column_field));
      }
      // Dropping the original at complete would silently take these with it. Indexes and the
      // unique constraints they back are carried over to the copy (IndexDuplication), checks
      // as checks the copies must satisfy (CarryCheck).
      for (const auto& constraint : info->constraints) {
        if (!Contains(constraint.columns, c.physical)) continue;
        if (dropping && constraint.name == *dropping) continue;
        if (constraint.type == 'u') continue;
        if (constraint.type == 'c' || constraint.type == 'f') {
          Status s = constraint.type == 'c'
                         ? CarryCheck(table, c, constraint, change.column_field)
                         : CarryForeignKey(context, table, c, constraint, change.column_field);
          if (!s.ok()) return s;
          continue;
        }
        return ColumnInUse(c.name, fmt::format("constraint \"{}\"", constraint.name),
                           "Drop the constraint first (drop_constraint) and add it again after "
                           "the change (create_constraint).",
                           change.column_field);
      }
      std::string regclass = conn.Ident(context.schema(), table.physical);
      pg::Rows referencing = conn.Exec(
          "SELECT k.conname, k.conrelid::regclass::text FROM pg_constraint k "
          "JOIN pg_attribute a ON a.attrelid = k.confrelid AND a.attnum = ANY (k.confkey) "
          "WHERE k.contype = 'f' AND k.confrelid = $1::regclass AND a.attname = $2",
          {regclass, c.physical});
      if (!referencing.empty()) {
        return ColumnInUse(c.name,
                           fmt::format("foreign key \"{}\" of table {}", referencing.Text(0, 0),
                                       referencing.Text(0, 1)),
                           "Drop that foreign key first and add it again after the change.",
                           change.column_field);
      }
      if (change.comment.IsAbsent()) {
        pg::Rows comment = conn.Exec(
            "SELECT col_description($1::regclass, attnum) FROM pg_attribute "
            "WHERE attrelid = $1::regclass AND attname = $2",
            {regclass, c.physical});
        if (!comment.empty()) p.final_comment = comment.Optional(0, 0);
      }
      // serial columns: the sequence is owned by (and would be dropped with) the original.
      pg::Rows sequences = conn.Exec(
          "SELECT s.oid::regclass::text FROM pg_depend d "
          "JOIN pg_class s ON s.oid = d.objid AND s.relkind = 'S' "
          "JOIN pg_attribute a ON a.attrelid = d.refobjid AND a.attnum = d.refobjsubid "
          "WHERE d.classid = 'pg_class'::regclass AND d.refclassid = 'pg_class'::regclass "
          "AND d.deptype = 'a' AND d.refobjid = $1::regclass AND a.attname = $2",
          {regclass, c.physical});
      for (int r = 0; r < sequences.size(); ++r) p.owned_sequences.push_back(sequences.Text(r, 0));
    }
  }
  columns_.push_back(std::move(p));
  return {};
}

Status ColumnDuplication::RequireFreeConstraintName(PlanContext& context, const std::string& name,
                                                    std::string_view field, bool index_too) {
  VirtualTable& table = *context.FindTable(table_);
  pg::Connection& conn = context.conn();
  if (!table.created) {
    auto info = pg::DescribeTable(conn, context.schema(), table.physical);
    if (info && info->FindConstraint(name)) {
      return Error(
                 ErrorKind::kInvalidMigration,
                 fmt::format("constraint \"{}\" already exists on table \"{}\"", name, table.name),
                 "Pick another name, or drop the existing constraint first.")
          .WithWhere(fmt::format("field {}", field));
    }
  }
  if (index_too) {
    pg::Rows rows = conn.Exec(
        "SELECT 1 FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace "
        "WHERE n.nspname = $1 AND c.relname = $2",
        {context.schema(), name});
    if (!rows.empty()) {
      return Error(ErrorKind::kInvalidMigration,
                   fmt::format("a relation named \"{}\" already exists in schema \"{}\"", name,
                               context.schema()),
                   "A unique constraint's index takes the constraint's name: pick another name.")
          .WithWhere(fmt::format("field {}", field));
    }
  }
  return {};
}

Result<std::string> ColumnDuplication::CopyOf(const std::string& column,
                                              std::string_view field) const {
  for (const auto& p : columns_) {
    if (p.change.column == column) return p.new_physical;
  }
  return Error(ErrorKind::kInvalidMigration,
               fmt::format("column \"{}\" is not among the columns the operation changes", column),
               "List it in `columns` (with its up and down).")
      .WithWhere(fmt::format("field {}", field));
}

ColumnCheck ColumnDuplication::VerifyCheck(PlanContext& context, const VirtualTable& table,
                                           const Prepared& p) const {
  pg::Connection& conn = context.conn();
  // The inner select names every column as the old version does, so `up` reads as it does in the
  // trigger; the key and the copy ride along under names no user column has.
  std::string inner;
  for (const auto& c : old_columns_) {
    inner += inner.empty() ? "" : ", ";
    inner += c.pending ? fmt::format("CAST(NULL AS {}) AS {}", c.type, conn.Ident(c.name))
                       : fmt::format("{} AS {}", conn.Ident(c.physical), conn.Ident(c.name));
  }
  std::string outer;
  for (std::size_t i = 0; i < table.key_columns.size(); ++i) {
    std::string hidden = fmt::format("_zd_key_{}", i);
    inner += fmt::format(", {} AS {}", conn.Ident(table.key_columns[i]), conn.Ident(hidden));
    outer += fmt::format("{} AS {}, ", conn.Ident(hidden), conn.Ident(table.key_columns[i]));
  }
  inner += fmt::format(", {} AS \"_zd_actual\"", conn.Ident(p.new_physical));
  ColumnCheck check;
  check.description =
      fmt::format("{}.{}: up(old row) against {}", table.name, p.change.column, p.new_physical);
  check.schema = context.schema();
  check.table = table.physical;
  check.key_columns = table.key_columns;
  check.select_sql = fmt::format(
      "SELECT {}CAST(({}) AS {}) AS expected, \"_zd_actual\" AS actual FROM (SELECT {} FROM {}) "
      "AS {}",
      outer, p.change.up.value_or(conn.Ident(p.change.column)), p.new_type, inner,
      context.Qualified(table), conn.Ident(table.name));
  return check;
}

DataProbe ColumnDuplication::Probe(PlanContext& context, const VirtualTable& table) const {
  pg::Connection& conn = context.conn();
  DataProbe probe;
  probe.where = context.operation_where();
  probe.schema = context.schema();
  probe.table = table.physical;
  probe.table_name = table.name;
  probe.key_columns = table.key_columns;
  probe.old_columns = old_columns_;
  for (const auto& p : columns_) {
    auto old = std::find_if(old_columns_.begin(), old_columns_.end(),
                            [&](const VirtualColumn& c) { return c.name == p.change.column; });
    bool was_nullable = old == old_columns_.end() || old->nullable;
    // A column that was NOT NULL and is copied as it is cannot turn NULL: no scan for that.
    probe.copies.push_back({p.change.column, p.old_physical, p.new_type,
                            p.change.up.value_or(conn.Ident(p.change.column)),
                            p.not_null && (was_nullable || p.change.up.has_value())});
  }
  for (const auto& c : checks_) probe.checks.push_back({c.name, c.expression});
  for (const auto& u : uniques_) probe.uniques.push_back({u.name, u.columns, u.nulls_not_distinct});
  return probe;
}

Status ColumnDuplication::AddCheck(PlanContext& context, CopyCheck check, std::string_view field) {
  if (Status s = RequireFreeConstraintName(context, check.name, field, false); !s.ok()) return s;
  VirtualTable& table = *context.FindTable(table_);
  if (Status s = context.CheckExpression(table, new_columns_, check.expression, "boolean", field);
      !s.ok()) {
    return s;
  }
  checks_.push_back(std::move(check));
  return {};
}

Status ColumnDuplication::AddUnique(PlanContext& context, CopyUnique unique,
                                    std::string_view field) {
  if (Status s = RequireFreeConstraintName(context, unique.name, field, true); !s.ok()) return s;
  for (const auto& c : unique.columns) {
    if (auto copy = CopyOf(c, field); !copy.ok()) return copy.error();
  }
  if (unique.parameters) {
    VirtualTable& table = *context.FindTable(table_);
    for (const auto& c : unique.parameters->include_columns) {
      if (auto r = RequireColumn(table, c, field); !r.ok()) return r.error();
    }
  }
  uniques_.push_back(std::move(unique));
  return {};
}

Status ColumnDuplication::AddForeignKey(PlanContext& context, CopyForeignKey key,
                                        std::string_view field) {
  if (Status s = RequireFreeConstraintName(context, key.name, field, false); !s.ok()) return s;
  for (const auto& c : key.columns) {
    if (auto copy = CopyOf(c, field); !copy.ok()) return copy.error();
  }
  for (const auto& c : key.on_delete_set_columns) {
    if (auto copy = CopyOf(c, field); !copy.ok()) return copy.error();
  }
  if (key.match_type == model::MatchType::kPartial) {
    return Error(ErrorKind::kInvalidMigration, "MATCH PARTIAL is not implemented by PostgreSQL",
                 "Use SIMPLE or FULL.")
        .WithWhere(fmt::format("field {}", field));
  }
  auto referenced = context.Table(key.table);
  if (!referenced.ok()) return referenced.error().WithWhere(fmt::format("field {}", field));
  VirtualTable& ref = **referenced;
  if (ref.name == table_) {
    return Error(ErrorKind::kInvalidMigration,
                 "a foreign key from changed columns to their own table is not supported",
                 "Add it with `sql` (NOT VALID, then VALIDATE CONSTRAINT).")
        .WithWhere(fmt::format("field {}", field));
  }
  std::vector<std::string> physical;
  for (const auto& c : key.referenced_columns) {
    auto column = RequireColumn(ref, c, field);
    if (!column.ok()) return column.error();
    if ((*column)->physical.rfind(kCopyPrefix, 0) == 0 || ((*column)->pending && !ref.created)) {
      return Error(ErrorKind::kInvalidMigration,
                   fmt::format("referenced column \"{}\" changes in this migration", c),
                   "Reference it in a later migration.")
          .WithWhere(fmt::format("field {}", field));
    }
    physical.push_back((*column)->physical);
  }
  if (!ref.created) {
    auto info = pg::DescribeTable(context.conn(), context.schema(), ref.physical);
    bool keyed = false;
    for (const auto& index : info ? info->indexes : std::vector<pg::IndexInfo>{}) {
      std::set<std::string> a(index.columns.begin(), index.columns.end());
      std::set<std::string> b(physical.begin(), physical.end());
      if (index.unique && index.valid && a == b && a.size() == index.columns.size() &&
          index.definition.find(" WHERE ") == std::string::npos) {
        keyed = true;
      }
    }
    if (!keyed) {
      return Error(ErrorKind::kInvalidMigration,
                   fmt::format("no unique constraint or primary key of \"{}\" covers exactly the "
                               "referenced columns",
                               ref.name),
                   "Reference the primary key, or create a unique constraint on those columns "
                   "first.")
          .WithWhere(fmt::format("field {}", field));
    }
  }
  key.table = ref.physical;
  key.referenced_columns = physical;
  foreign_keys_.push_back(std::move(key));
  return {};
}

void ColumnDuplication::Plan(PlanContext& context) {
  VirtualTable& table = *context.FindTable(table_);
  pg::Connection& conn = context.conn();
  std::string qualified = context.Qualified(table);
  auto copies = [&](const std::vector<std::string>& names) {
    std::vector<std::string> out;
    // A carried foreign key may also read columns this operation does not copy: those keep
    // their names (CarryForeignKey checked that none was renamed).
    for (const auto& n : names) {
      auto copy = CopyOf(n, "");
      out.push_back(copy.ok() ? copy.value() : n);
    }
    return out;
  };

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
  SyncTrigger sync = BuildSyncTrigger(context, table, specs, trigger_checks).ValueOrThrow();

  // Copies, trigger and NOT NULL checks in one transaction: a check without the trigger would
  // reject the old version's writes, which leave the copies NULL.
  std::vector<std::string> add;
  std::string names;
  for (const auto& p : columns_) {
    add.push_back(fmt::format("ALTER TABLE {} ADD COLUMN IF NOT EXISTS {} {}", qualified,
                              conn.Ident(p.new_physical), p.new_type));
    names += fmt::format("{}{} ({}) beside {}", names.empty() ? "" : ", ", p.new_physical,
                         p.new_type, p.old_physical);
  }
  std::vector<std::string> after_add = sync.create_sql;
  std::vector<std::string> validate_not_null;
  for (const auto& p : columns_) {
    if (!p.not_null) continue;
    // NOT VALID: instant. Validated on complete without blocking writes, after which SET NOT
    // NULL needs no scan (PostgreSQL 12+).
    std::string check = PlanContext::TempName("_zd_nn_", p.new_physical);
    after_add.push_back(
        fmt::format("ALTER TABLE {} ADD CONSTRAINT {} CHECK ({} IS NOT NULL) NOT VALID", qualified,
                    conn.Ident(check), conn.Ident(p.new_physical)));
    validate_not_null.push_back(
        fmt::format("ALTER TABLE {} VALIDATE CONSTRAINT {}", qualified, conn.Ident(check)));
  }
  if (shadow_) {
    // The copies are born full in the new heap; the trigger and checks arrive with the swap.
    context.AddStart(PlanShadowCopy(context, table, after_add, names));
  } else {
    add.insert(add.end(), after_add.begin(), after_add.end());
    context.AddStart(context.Ddl(
        "add_column",
        fmt::format("add {} to {}, with the trigger keeping them in step{}", names, table.physical,
                    mechanism_note_.empty() ? "" : " [" + mechanism_note_ + "]"),
        "ACCESS EXCLUSIVE, instant (no default, no rewrite)", add));
  }

  for (const auto& key : foreign_keys_) {
    std::string set_columns = key.on_delete_set_columns.empty()
                                  ? ""
                                  : " (" + IdentList(conn, copies(key.on_delete_set_columns)) + ")";
    // NOT VALID: checks every write from now on (the old version's too, through up) without
    // scanning the table; complete validates the rows that were there before.
    context.AddStart(context.Ddl(
        fmt::format("foreign_key_{}", key.name),
        fmt::format("add foreign key {} NOT VALID on the copies", key.name),
        "SHARE ROW EXCLUSIVE on the table and the referenced table, instant (NOT VALID: no scan)",
        {fmt::format("ALTER TABLE {} ADD CONSTRAINT {} FOREIGN KEY ({}) REFERENCES {} ({}) MATCH "
                     "{} ON DELETE {}{} ON UPDATE {}{}{} NOT VALID",
                     qualified, conn.Ident(key.name), IdentList(conn, copies(key.columns)),
                     conn.Ident(context.schema(), key.table),
                     IdentList(conn, key.referenced_columns), model::ToString(key.match_type),
                     model::ToString(key.on_delete), set_columns, model::ToString(key.on_update),
                     key.deferrable ? " DEFERRABLE" : "",
                     key.initially_deferred ? " INITIALLY DEFERRED" : "")}));
  }

  if (!shadow_) {
    context.AddStart(BackfillAction(context, table, "backfill",
                                    fmt::format("the copies of {} in {}", names, table.physical)));
  }

  for (const auto& unique : uniques_) {
    // Built after the backfill, so the build sees every row once; the temporary name keeps a
    // half-built index recognisable as ours, and the constraint renames it on complete.
    std::string index = PlanContext::TempName("_zd_uq_", unique.name);
    std::string include;
    std::string with;
    std::string tablespace;
    if (unique.parameters) {
      std::vector<std::string> included;
      for (const auto& c : unique.parameters->include_columns) {
        included.push_back(table.FindColumn(c)->physical);
      }
      if (!included.empty()) include = " INCLUDE (" + IdentList(conn, included) + ")";
      if (unique.parameters->storage_parameters) {
        with = " WITH (" + *unique.parameters->storage_parameters + ")";
      }
      if (unique.parameters->tablespace) {
        tablespace = " TABLESPACE " + conn.Ident(*unique.parameters->tablespace);
      }
    }
    Action create;
    create.id = context.ActionId("unique_index_" + unique.name);
    create.kind = ActionKind::kNonTransactional;
    create.description = fmt::format("build unique index {} concurrently on the copies", index);
    create.lock = "SHARE UPDATE EXCLUSIVE while it builds (reads and writes go on)";
    create.sql = {
        fmt::format("DROP INDEX CONCURRENTLY IF EXISTS {}", conn.Ident(context.schema(), index)),
        fmt::format("CREATE UNIQUE INDEX CONCURRENTLY {} ON {} ({}){}{}{}{}", conn.Ident(index),
                    qualified, IdentList(conn, copies(unique.columns)), include,
                    unique.nulls_not_distinct ? " NULLS NOT DISTINCT" : "", with, tablespace)};
    context.AddStart(create);
  }

  indexes_.PlanStart(context);

  // The planner runs every VALIDATE of complete first, before any rename, under the physical
  // names: a failure then leaves the migration where it was, and rollback still works.
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
        {fmt::format("ALTER TABLE {} VALIDATE CONSTRAINT {}", qualified, conn.Ident(key.name))}));
  }

  // Complete's catalog changes name the table and columns as this operation sees them: the
  // earlier operations' renames are done by then.
  std::string at_complete = CompleteQualified(context, table);
  std::vector<std::string> swap = sync.complete_drop_sql;
  std::string swapped;
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
    swapped += (swapped.empty() ? "" : ", ") + column;
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
  context.AddComplete(
      context.Ddl("swap", fmt::format("drop the originals of {} and rename the copies", swapped),
                  "ACCESS EXCLUSIVE, catalog only (milliseconds)", swap));
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
    validate.sql = {
        fmt::format("ALTER TABLE {} VALIDATE CONSTRAINT {}", at_complete, conn.Ident(check.name))};
    context.AddComplete(validate);
  }

  // The copies' index, foreign keys and NOT NULL checks go with them.
  std::vector<std::string> undo = sync.drop_sql;
  for (const auto& p : columns_) {
    undo.push_back(fmt::format("ALTER TABLE {} DROP COLUMN IF EXISTS {}", qualified,
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

  for (const auto& p : columns_) {
    context.plan().checks.push_back(VerifyCheck(context, table, p));
  }
  if (!table.created) AddDataChecks(context, Probe(context, table));

  for (const auto& p : columns_) {
    VirtualColumn& column = *table.FindColumn(p.change.column);
    column.physical = p.new_physical;
    column.type = p.new_type;
    column.nullable = !p.not_null;
    column.pending = true;
    column.view_default = p.final_default;
  }
}

}  // namespace zerodown::engine::ops
