// How ColumnDuplication fills its copies (an in-place backfill or a shadow copy into a new heap)
// and what `zerodown verify` and the data checks before start compare for them.
#include <algorithm>

#include "engine/ops/column_duplication.hpp"
#include "engine/ops/op_support.hpp"

namespace zerodown::engine::ops {

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

// What each way would cost `e`'s table, for `zerodown plan`.
std::string EstimateText(const TableEstimate& e) {
  double rows = static_cast<double>(e.rows);
  double bytes = static_cast<double>(e.table_bytes + e.index_bytes);
  return fmt::format(
      "~{} rows, {} heap + {} in {} index(es); in place ≈ {:.0f} s and ≈ {} written with its WAL, "
      "rewriting every row and index entry of the live heap and leaving ≈ {} of dead rows in it; "
      "shadow copy ≈ {:.0f} s and ≈ {} written with its WAL into a new heap, taking ≈ {} more "
      "disk until the swap drops the old one (rates of a busy 2-core server)",
      e.rows, Megabytes(static_cast<double>(e.table_bytes)),
      Megabytes(static_cast<double>(e.index_bytes)), e.indexes, rows / kInPlaceRowsPerSecond,
      Megabytes(bytes * kInPlaceWrittenPerByte), Megabytes(bytes),
      rows / kCopyRowsPerSecond + rows * e.indexes / kIndexRowsPerSecond,
      Megabytes(bytes * kShadowWrittenPerByte), Megabytes(bytes));
}

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
  std::string estimate = EstimateText(e);
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

}  // namespace zerodown::engine::ops
