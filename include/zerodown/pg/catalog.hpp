// Catalog introspection: what a table looks like right now, read from pg_catalog. Every query
// takes the names as parameters. It reads only; nothing here changes the database.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "zerodown/pg/connection.hpp"

namespace zerodown::pg {

// A relation named by its schema and name, both unquoted.
struct QualifiedName {
  std::string schema;
  std::string name;
};

struct ColumnInfo {
  std::string name;
  std::string type;  // format_type(), e.g. "character varying(20)", "bigint"
  bool not_null = false;
  std::optional<std::string> default_expr;
  bool identity = false;
  bool generated = false;
  int attnum = 0;
};

struct ConstraintInfo {
  std::string name;
  char type = '?';         // pg_constraint.contype: p, u, f, c, x
  std::string definition;  // pg_get_constraintdef()
  bool validated = true;
  std::vector<std::string> columns;
  std::string check_expression;  // a check's expression alone (pg_get_expr of conbin), else ""
  bool no_inherit = false;
};

struct IndexInfo {
  std::string name;
  std::string definition;  // pg_get_indexdef()
  bool valid = true;
  bool unique = false;
  bool primary = false;
  std::vector<std::string> columns;  // empty for expression-only indexes
};

struct TriggerInfo {
  std::string name;
  std::string definition;
};

struct TableInfo {
  std::uint32_t oid = 0;
  std::string schema;
  std::string name;
  char kind = 'r';  // pg_class.relkind
  std::vector<ColumnInfo> columns;
  std::vector<std::string> primary_key;
  std::vector<ConstraintInfo> constraints;
  std::vector<IndexInfo> indexes;
  std::vector<TriggerInfo> triggers;  // user triggers only (not constraint triggers)
  std::int64_t estimated_rows = 0;    // pg_class.reltuples, -1 when never analysed
  std::int64_t table_bytes = 0;
  std::int64_t index_bytes = 0;

  const ColumnInfo* FindColumn(std::string_view column) const;
  const ConstraintInfo* FindConstraint(std::string_view constraint) const;
  const IndexInfo* FindIndex(std::string_view index) const;
};

// The table or view `schema.name`, or nullopt when there is none.
std::optional<TableInfo> DescribeTable(Connection& conn, const std::string& schema,
                                       const std::string& name);
std::vector<std::string> ListTables(Connection& conn, const std::string& schema);
bool SchemaExists(Connection& conn, const std::string& schema);
// The canonical name of `type` (format_type of to_regtype), or nullopt when no such type exists.
std::optional<std::string> CanonicalType(Connection& conn, const std::string& type);
// Whether an index of that name exists in `schema`, and whether it is valid.
std::optional<bool> IndexIsValid(Connection& conn, const std::string& schema,
                                 const std::string& index);
bool IsInRecovery(Connection& conn);
// The column an UPDATE of schema.table can set to itself so that its row triggers fire and the row
// keeps every value, or nullopt when there is none (or no such table). An identity ALWAYS or a
// generated column takes no value but DEFAULT (SQLSTATE 428C9) and is never chosen. Of the
// rest, a column outside the primary key and outside every user trigger's `UPDATE OF` list comes
// first, lowest attnum first, so that the touch fires no more triggers than any update does.
std::optional<std::string> SelfAssignableColumn(Connection& conn, const std::string& schema,
                                                const std::string& table);
// The planner's row count of relation `regclass` (quoted, qualified): pg_class.reltuples as of the
// last ANALYZE, VACUUM or index build, 0 when it was never counted (PostgreSQL 14+ keeps -1 then).
// An estimate for progress, ETAs and sample sizes, never a count.
std::int64_t EstimatedRows(Connection& conn, const std::string& regclass);
// Sequences owned by columns of the table (serial / identity), as "schema.sequence".
std::vector<std::string> OwnedSequences(Connection& conn, const std::string& schema,
                                        const std::string& table);

// Whether `qualified` (quoted, as to_regclass reads it) names a relation; a swap back finds
// whether the old heap is still there, the planner whether `init` made the state tables.
bool RelationExists(Connection& conn, const std::string& qualified);

// Whether a relation (table, index, view, sequence…) named `name` exists in schema `schema`; the
// planner refuses names that are taken, and `init` checks for its state tables.
bool RelationNamed(Connection& conn, const std::string& schema, const std::string& name);

// Whether relation `relation` (quoted, qualified; a relation that does not exist has none) has
// a live column `column`; the planner refuses to add a column whose name is still taken.
bool ColumnNamed(Connection& conn, const std::string& relation, const std::string& column);

// Whether relation `relation` (quoted, qualified; a relation that does not exist has none) has
// a constraint `name`; the planner refuses to add one whose name is taken.
bool ConstraintNamed(Connection& conn, const std::string& relation, const std::string& name);

// The type of column `column` of relation `regclass`, format_type with its typmod
// ("character varying(20)"); key comparisons cast to it.
std::string ColumnType(Connection& conn, const std::string& regclass, const std::string& column);

// A live column of a relation, in attnum order.
struct RelationColumn {
  std::string name;
  std::string type;  // format_type with typmod
  bool generated = false;
};
// The live columns of relation `regclass`; a copy or a swap back lists them in its statements.
std::vector<RelationColumn> RelationColumns(Connection& conn, const std::string& regclass);

// What a table carries besides its columns, indexes and constraints.
struct TableProperties {
  std::string owner;
  std::optional<std::string> comment;
  char replica_identity = 'd';         // pg_class.relreplident: d, n, f or i
  std::string replica_identity_index;  // the index's name when replica_identity is 'i', else ""
  std::string options;                 // pg_class.reloptions as text ("{a=1,b=2}"), "" when none
};
// The owner, comment, replica identity and storage options of relation `regclass` (quoted,
// qualified); a swap gives them to the new heap. Prepared: the swap reads them under its lock.
TableProperties ReadTableProperties(Connection& conn, const std::string& regclass);

// The name of relation `regclass` as quote_ident prints it, schema-qualified; an index rebuild
// finds it in pg_get_indexdef's text to name the new heap instead.
std::string QualifiedText(Connection& conn, const std::string& regclass);

// Whether relation `regclass` is UNLOGGED; a new heap is made the same.
bool IsUnlogged(Connection& conn, const std::string& regclass);

// What about a table a shadow copy cannot carry over to a new heap.
struct CopyObstacles {
  bool partitioned = false;
  bool inheritance = false;   // it has inheritance parents or children
  bool row_security = false;  // row-level security on, or policies
  bool published = false;     // it is in a publication
  bool rules = false;
  bool exclusion = false;          // an exclusion constraint
  bool materialized_view = false;  // a materialized view reads it
  bool function_body = false;      // a function body (BEGIN ATOMIC) refers to it
};
// The obstacles of relation `regclass` to a shadow copy, or nullopt when it does not exist; the
// planner names them when it refuses the copy.
std::optional<CopyObstacles> ReadCopyObstacles(Connection& conn, const std::string& regclass);

// How big a table is, as the planner weighs an in-place backfill against a shadow copy.
struct RelationSize {
  std::int64_t rows = 0;  // pg_class.reltuples (after ANALYZE or VACUUM; 0 when never counted)
  std::int64_t table_bytes = 0;
  std::int64_t index_bytes = 0;
  int indexes = 0;
};
// The size of relation `regclass`, or nullopt when it does not exist.
std::optional<RelationSize> ReadRelationSize(Connection& conn, const std::string& regclass);

// A foreign key of some table that points at a column.
struct ReferencingKey {
  std::string name;   // the constraint's
  std::string table;  // the referencing table, as regclass text
};
// The foreign keys that point at column `column` of relation `regclass` (quoted, qualified).
std::vector<ReferencingKey> KeysReferencingColumn(Connection& conn, const std::string& regclass,
                                                  const std::string& column);
// The comment on column `column` of relation `regclass`, or nullopt when it has none.
std::optional<std::string> ColumnComment(Connection& conn, const std::string& regclass,
                                         const std::string& column);
// The sequences column `column` of relation `regclass` owns (serial), as regclass text: a DROP
// COLUMN drops them with it.
std::vector<std::string> SequencesOwnedByColumn(Connection& conn, const std::string& regclass,
                                                const std::string& column);
// The views that read a view over relation `regclass` (quoted, qualified), as regclass text: a
// column of the inner view that changes type needs DROP VIEW, which PostgreSQL refuses while
// another view reads it.
std::vector<std::string> ViewsOverViews(Connection& conn, const std::string& regclass);

}  // namespace zerodown::pg
