// The row trigger that keeps an old and a new physical column in step while both application
// versions run. Which version wrote a row is read from the row itself (which of the two columns
// changed), not from a per-row setting lookup: a current_setting() per row made a peer's
// backfill an order of magnitude slower, and the column test is exact for the old version, which
// cannot see the new column at all.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "zerodown/engine/operation.hpp"

namespace zerodown::engine {

enum class SyncMode {
  kBoth,      // alter_column: up fills new from old, down fills old from new
  kUpOnly,    // add_column with up: fill the new column when the old version leaves it NULL
  kDownOnly,  // drop_column with down: fill the dropped column when the new version omits it
};

struct SyncSpec {
  std::string old_column;  // physical
  std::string new_column;  // physical
  std::string up;          // SQL over the old version's column names
  std::string down;        // SQL over the new version's column names
  SyncMode mode = SyncMode::kBoth;
  // kUpOnly: also recompute up on an UPDATE that leaves the new column as it was, as every write
  // of the old version does (it cannot see the column); without it only NULLs are filled (a
  // volatile default standing in for up must not change on every update).
  bool follow_updates = false;
  // Names each version uses for the table's columns: (name, physical, type).
  std::vector<VirtualColumn> old_version_columns;
  std::vector<VirtualColumn> new_version_columns;
};

struct SyncTrigger {
  std::string function;  // qualified, quoted
  std::string trigger;   // quoted
  std::vector<std::string> create_sql;
  std::vector<std::string> drop_sql;  // at start or rollback: the table has its physical name
  std::vector<std::string> complete_drop_sql;  // at complete: the table has its virtual name
};

// A CHECK the trigger enforces on every row it writes, raised as a check violation (23514)
// naming the constraint, e.g. for a check the new version expects before the NOT VALID one is
// validated.
struct TriggerCheck {
  std::string name;        // the constraint's name, reported in the error
  std::string expression;  // SQL boolean over `columns` as the new version names them
  std::vector<VirtualColumn> columns;
};

// Builds the function and trigger SQL for `spec` on `table`. The names derive from the
// migration, table and column so that a rerun finds and replaces the same objects.
Result<SyncTrigger> BuildSyncTrigger(PlanContext& context, const VirtualTable& table,
                                     const SyncSpec& spec);
// One trigger for several column pairs of one table (named after the first), then `checks` on
// the row it leaves. kInvalidMigration when `specs` is empty.
Result<SyncTrigger> BuildSyncTrigger(PlanContext& context, const VirtualTable& table,
                                     const std::vector<SyncSpec>& specs,
                                     const std::vector<TriggerCheck>& checks);

}  // namespace zerodown::engine
