// A primary key over columns that already hold their values (create_constraint of type
// primary_key, add_column's `pk` on a table this migration creates), planned without a long
// lock. On a table this migration creates, nobody uses it yet: a plain ADD CONSTRAINT … PRIMARY
// KEY at start. On a table that exists: start adds a NOT VALID `col IS NOT NULL` check per
// nullable column (ACCESS EXCLUSIVE, instant) and builds a unique index CONCURRENTLY (SHARE
// UPDATE EXCLUSIVE, writes go on); complete validates the checks (SHARE UPDATE EXCLUSIVE while
// it scans), then SET NOT NULL, which finds the validated check and skips its scan (PostgreSQL
// 12+), and ADD CONSTRAINT … PRIMARY KEY USING INDEX (ACCESS EXCLUSIVE, catalog only). Rollback
// drops the index and the checks. It plans; it runs no DDL but read-only checks of the rows.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "zerodown/engine/operation.hpp"

namespace zerodown::engine::ops {

struct PrimaryKeySpec {
  std::string table;                 // as the new version names it
  std::string name;                  // the constraint's name (and its index's, from complete)
  std::vector<std::string> columns;  // as the new version names them, in key order
  std::optional<model::IndexParameters> parameters;
};

class PrimaryKeyPlan {
 public:
  // Checks the table has no primary key yet, the columns exist, the name is free, and (on a
  // table that has rows) that no row holds a NULL or repeats a key: kInvalidMigration naming
  // the row, before anything changes. `field` names the columns in errors.
  Status Validate(PlanContext& context, PrimaryKeySpec spec, std::string_view field);
  // Appends the start, complete and rollback actions; the table's key is these columns.
  void Plan(PlanContext& context);

 private:
  Status CheckRows(PlanContext& context, VirtualTable& table, std::string_view field);

  // Plan's parts.
  void PlanOnNewTable(PlanContext& context, VirtualTable& table);
  // For each column not NOT NULL yet: a NOT VALID check added at start, validated at complete,
  // then traded for SET NOT NULL (attach), and dropped at rollback.
  struct NotNullSteps {
    std::vector<std::string> add;
    std::vector<std::string> validate;
    std::vector<std::string> attach;
    std::vector<std::string> drop;
  };
  NotNullSteps PlanNotNull(PlanContext& context, VirtualTable& table) const;
  void PlanRollback(PlanContext& context, const std::string& index,
                    const std::vector<std::string>& drop_checks);

  PrimaryKeySpec spec_;
  std::vector<std::string> physical_;  // the columns' physical names
};

}  // namespace zerodown::engine::ops
