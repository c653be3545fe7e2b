// Catalog reads of what depends on a table: the views that read it, its triggers, the foreign
// keys from and to it. Each query takes the names as parameters; nothing here changes the
// database. The reads a shadow copy's swap repeats under its lock are prepared
// (Connection::ExecPrepared), so that their plans are made before the lock.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "zerodown/pg/catalog.hpp"
#include "zerodown/pg/connection.hpp"

namespace zerodown::pg {

// A view that reads a table directly.
struct DependentView {
  std::string schema;
  std::string name;
  std::string definition;  // pg_get_viewdef(), as printed under the caller's search_path
  std::string options;     // pg_class.reloptions as text ("{a=1,b=2}"), "" when none
  std::string oid;
  std::string owner;
  std::optional<std::string> comment;
};
// The views that read relation `regclass` (quoted, qualified), itself excepted; a shadow copy's
// swap re-creates them over the new heap. Prepared: the swap reads them under its lock.
std::vector<DependentView> ViewsReading(Connection& conn, const std::string& regclass);

// A view that reads a table, with its owner.
struct ViewOwner {
  QualifiedName view;
  std::string owner;
};
// The views that read relation `regclass`, ordered by schema and name, with their owners; a
// swap takes their locks (ALTER VIEW … OWNER TO the same owner) before the table's.
std::vector<ViewOwner> ViewOwnersReading(Connection& conn, const std::string& regclass);

// A column default of a relation.
struct ColumnDefault {
  std::string column;
  std::string expression;  // pg_get_expr()
};
// The column defaults of relation `oid` in column order; a swap that re-creates a view sets
// them again. Prepared: the swap reads them under its lock.
std::vector<ColumnDefault> ColumnDefaults(Connection& conn, const std::string& oid);

// A user trigger of a table.
struct TriggerDefinition {
  std::string definition;  // pg_get_triggerdef()
  char enabled = 'O';      // pg_trigger.tgenabled: O, D, R or A
  std::string name;
};
// The triggers of relation `regclass` that are not internal and call neither `function_a` nor
// `function_b` of schema `function_schema`, by name; a swap re-creates them on the new heap
// (skipping its own change-log triggers). Prepared: the swap reads them under its lock.
std::vector<TriggerDefinition> TriggersExcept(Connection& conn, const std::string& regclass,
                                              const std::string& function_schema,
                                              const std::string& function_a,
                                              const std::string& function_b);

// A foreign key from or to a table.
struct ForeignKeyDefinition {
  std::string name;
  QualifiedName table;     // the referencing table
  std::string definition;  // pg_get_constraintdef(), " NOT VALID" included when not validated
  bool validated = true;
  bool outgoing = false;  // the key belongs to the table itself (it may point at the table too)
};
// The foreign keys of relation `regclass` and those of other tables pointing at it, by name; a
// swap re-creates them on or towards the new heap. Prepared: the swap reads them under its lock.
std::vector<ForeignKeyDefinition> ForeignKeysOfAndTo(Connection& conn, const std::string& regclass);

// What a foreign key points at and how.
struct ForeignKeyTarget {
  QualifiedName referenced;
  std::vector<std::string> columns;  // the referenced columns, in the key's order
  char on_delete = 'a';              // pg_constraint.confdeltype: a, r, c, n or d
  char on_update = 'a';              // pg_constraint.confupdtype
  char match = 's';                  // pg_constraint.confmatchtype: f, p or s
  bool deferrable = false;
  bool deferred = false;
  bool sets_some_columns = false;  // ON DELETE SET NULL/DEFAULT (columns…)
};
// Foreign key `name` of relation `regclass`, or nullopt when it has none of that name; the
// planner carries it over to a copied column.
std::optional<ForeignKeyTarget> ForeignKeyNamed(Connection& conn, const std::string& regclass,
                                                const std::string& name);

// The other tables whose foreign keys point at relation `regclass`; a swap locks them with it.
std::vector<QualifiedName> TablesReferencing(Connection& conn, const std::string& regclass);

}  // namespace zerodown::pg
