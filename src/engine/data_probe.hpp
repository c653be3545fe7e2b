// What one operation's copies ask of the rows already in a table, as data the plan carries: the
// table and its key, how the old version names its columns, each copy's `up` and type, NOT NULL,
// checks and unique constraints. From it come the read-only statements that find a row the
// migration cannot take before start changes anything (data checks, run by data_failure.hpp) and
// the queries that name the row a failed fill stopped at. It builds SQL; it runs none.
#pragma once

#include <nlohmann/json.hpp>
#include <string>
#include <string_view>
#include <vector>

#include "zerodown/engine/operation.hpp"

namespace zerodown::engine {

// One column that gets a copy filled by `up`.
struct ProbeCopy {
  std::string column;        // as both versions name it
  std::string old_physical;  // the original column
  std::string type;          // the copy's type
  std::string up;            // over the row as the old version names it
  bool not_null = false;     // the new version asks NOT NULL of the copy
};

struct ProbeCheck {
  std::string name;
  std::string expression;  // over the row as the new version names it
};

struct ProbeUnique {
  std::string name;
  std::vector<std::string> columns;  // each one a copy's column
  bool nulls_not_distinct = false;
};

struct DataProbe {
  std::string where;  // "004.yaml, operation 2 (alter_column)"
  std::string schema;
  std::string table;                       // physical
  std::string table_name;                  // as the new version names it
  std::vector<std::string> key_columns;    // physical, in key order
  std::vector<VirtualColumn> old_columns;  // the table as the old version names it
  std::vector<ProbeCopy> copies;
  std::vector<ProbeCheck> checks;
  std::vector<ProbeUnique> uniques;

  nlohmann::json ToJson() const;
  static DataProbe FromJson(const nlohmann::json& json);
  // Whether every column the old version sees exists before start: only then can a read-only
  // statement evaluate `up` before the first change.
  bool CheckableBeforeStart() const;
};

enum class DataCheckKind { kNotNull, kCheck, kUnique };
std::string_view DataCheckKindName(DataCheckKind kind);
DataCheckKind DataCheckKindFromName(std::string_view name);

// A data check scans the whole table once. On a table so large that the scan takes longer it is
// cut off and start goes on: the fill meets the same row and the executor names it then, after
// which start rolls back. Seconds.
inline constexpr int kDataCheckTimeoutSeconds = 30;

// The rows as the old version names them, plus _zd_key_<i> (the key columns) and _zd_old_<j>
// (copy j's original column as text): `(SELECT … FROM table WHERE filter) AS "table"`. `filter`
// may compare the physical key columns to parameters; empty for every row.
std::string OldRows(pg::Connection& conn, const DataProbe& probe, std::string_view filter = {});
// The same rows as the new version names them, each copy's column holding CAST((up) AS type).
std::string NewRows(pg::Connection& conn, const DataProbe& probe, std::string_view filter = {});

// The read-only statement of one data check; it returns no row when the data fits. kNotNull
// (copy `index`) and kCheck (check `index`) return the first failing row in key order: its key
// columns as text, then each copy's old value, then each copy's new value. kUnique (unique
// `index`) returns two keys that share a value (each key's columns as text), then that value.
std::string DataCheckSql(pg::Connection& conn, const DataProbe& probe, DataCheckKind kind,
                         std::size_t index);

// Records the probe on the current operation's start actions that fill or index the copies
// (the executor names the failing row from it) and, when the table exists before start, appends
// one data check action per NOT NULL, check and unique constraint. The planner moves the data
// checks ahead of every other start action.
void AddDataChecks(PlanContext& context, const DataProbe& probe);

}  // namespace zerodown::engine
