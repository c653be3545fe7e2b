// The contract every migration operation implements, and the planning context they share: a
// virtual copy of the schema (what each table looks like to the new version and where each of
// its columns physically lives) that operations read and update in order, and the plan they
// append to. Operations emit actions; they never run SQL themselves, except read-only catalog
// checks and compile checks of user expressions during Validate.
#pragma once

#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "zerodown/common/error.hpp"
#include "zerodown/engine/plan.hpp"
#include "zerodown/model/operations.hpp"
#include "zerodown/pg/connection.hpp"

namespace zerodown::engine {

// One column as the new version sees it.
struct VirtualColumn {
  std::string name;      // the name the new version uses
  std::string physical;  // the column in the physical table that holds it
  std::string type;
  bool nullable = true;
  std::optional<std::string> view_default;  // default for inserts through the new version's view
  bool pending = false;  // added by this migration: not in the physical table before start
  std::optional<std::string> default_expr;  // the physical column's default today
};

struct VirtualTable {
  std::string name;      // the name the new version uses
  std::string physical;  // the physical table's name
  std::vector<VirtualColumn> columns;
  std::vector<std::string> key_columns;  // physical primary key columns
  bool created = false;                  // created by this migration

  VirtualColumn* FindColumn(std::string_view column);
};

// Everything an operation needs to validate and plan.
class PlanContext {
 public:
  PlanContext(pg::Connection& conn, std::string schema, std::string migration_name,
              std::string version_schema);

  pg::Connection& conn() { return conn_; }
  const std::string& schema() const { return schema_; }
  const std::string& migration() const { return migration_; }
  Plan& plan() { return plan_; }
  // Appends to the start and complete phases; rollback actions go first so that rollback undoes
  // operations in reverse order.
  void AddStart(Action action);
  void AddComplete(Action action);
  void AddRollback(std::vector<Action> actions);
  // Compiles `expression` as the value of a `type` column against `table` as the given columns
  // name it, in a transaction that is rolled back. kInvalidMigration with the server's message.
  Status CheckExpression(const VirtualTable& table, const std::vector<VirtualColumn>& columns,
                         const std::string& expression, const std::string& type,
                         std::string_view field);
  // The select list that shows `table`'s physical columns under the names `columns` give them
  // (a column not in the heap yet, or of a table not created yet, is a typed NULL).
  std::string SelectAs(const VirtualTable& table, const std::vector<VirtualColumn>& columns) const;
  // kNotFound for a type the server does not know.
  Status CheckType(const std::string& type, std::string_view field);

  // The table as the new version sees it so far, or a kNotFound error naming it.
  Result<VirtualTable*> Table(const std::string& name);
  VirtualTable* FindTable(const std::string& name);
  void AddTable(VirtualTable table);
  void RemoveTable(const std::string& name);
  const std::map<std::string, VirtualTable>& tables() const { return tables_; }

  // "schema"."physical table", quoted.
  std::string Qualified(const VirtualTable& table) const;
  // A physical name derived from `base` that fits in 63 bytes, e.g. _zd_new_abalance.
  static std::string TempName(std::string_view prefix, std::string_view base);
  // An Action of kind kTransactional with the current operation's id prefix.
  Action Ddl(std::string_view id, std::string description, std::string lock,
             std::vector<std::string> sql) const;
  // A unique action id: "<op index>.<suffix>".
  std::string ActionId(std::string_view suffix) const;
  void SetOperationIndex(int index) { operation_index_ = index; }
  // "file.yaml, operation 2 (alter_column)": names the operation in errors found at run time.
  const std::string& operation_where() const { return operation_where_; }
  void SetOperationWhere(std::string where) { operation_where_ = std::move(where); }
  // How operations that rewrite every row move the data (--mechanism).
  Mechanism mechanism() const { return mechanism_; }
  void SetMechanism(Mechanism mechanism) { mechanism_ = mechanism; }

 private:
  pg::Connection& conn_;
  std::string schema_;
  std::string migration_;
  std::map<std::string, VirtualTable> tables_;
  Plan plan_;
  int operation_index_ = 0;
  std::string operation_where_;
  Mechanism mechanism_ = Mechanism::kAuto;
};

// One operation kind. Validate checks it against the catalog (through the context's virtual
// schema) before anything changes; Plan appends its start, complete and rollback actions and
// updates the virtual schema.
class OperationPlanner {
 public:
  virtual ~OperationPlanner() = default;
  virtual Status Validate(PlanContext& context) = 0;
  virtual void Plan(PlanContext& context) = 0;
};

// The planner for `operation`, or kInvalidMigration when the engine does not support it yet.
Result<std::unique_ptr<OperationPlanner>> MakePlanner(const model::Operation& operation);

}  // namespace zerodown::engine
