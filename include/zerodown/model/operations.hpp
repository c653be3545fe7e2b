// The migration format as plain values: one struct per operation of pgroll's migration format
// (schema.json), a Migration that holds them in order, and small queries on them (name, tables
// touched). It does no I/O and knows nothing about a database; reading and checking files lives
// in migration_reader.hpp.
//
// Conventions the engine can rely on once a Migration came out of the reader:
// - identifiers are non-empty and at most 63 bytes;
// - optional SQL fields (`up`, `down`, `predicate`, ...) are std::nullopt when absent or empty,
//   never an empty string;
// - fields pgroll gives a default (nullable: false, on_delete: NO ACTION, ...) hold that default
//   when the file omits them.
#pragma once

#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <variant>
#include <vector>

namespace zerodown::model {

// A field that can be left out (no change), set to null (remove what is there) or set to a value.
// alter_column's `default` and `comment` use it: `default: null` drops the column default.
template <typename T>
class Nullable {
 public:
  // Absent: the migration does not touch this property.
  Nullable() = default;
  // Set to `value`.
  Nullable(T value) : present_(true), value_(std::move(value)) {}  // NOLINT(google-explicit-*)
  // Explicitly null: the migration removes the property.
  static Nullable Null() {
    Nullable n;
    n.present_ = true;
    return n;
  }

  bool IsAbsent() const { return !present_; }
  bool IsNull() const { return present_ && !value_.has_value(); }
  bool HasValue() const { return value_.has_value(); }
  // The value; only valid when HasValue().
  const T& value() const { return *value_; }

  bool operator==(const Nullable&) const = default;

 private:
  bool present_ = false;
  std::optional<T> value_;
};

// ON DELETE / ON UPDATE of a foreign key.
enum class ForeignKeyAction { kNoAction, kRestrict, kCascade, kSetNull, kSetDefault };
// MATCH of a foreign key.
enum class MatchType { kSimple, kFull, kPartial };
// A table-level constraint kind. kExclude only appears in create_table.
enum class ConstraintType { kUnique, kCheck, kPrimaryKey, kForeignKey, kExclude };
// Index access method of create_index.
enum class IndexMethod { kBtree, kHash, kGist, kSpgist, kGin, kBrin };
// Sort order of one index element.
enum class SortOrder { kAsc, kDesc };
// NULLS FIRST / NULLS LAST of one index element.
enum class NullsOrder { kFirst, kLast };
// GENERATED ALWAYS / BY DEFAULT AS IDENTITY.
enum class IdentityKind { kAlways, kByDefault };
// REPLICA IDENTITY of set_replica_identity.
enum class ReplicaIdentityType { kNothing, kDefault, kIndex, kFull };

// The spelling of an enum value in the migration format ("NO ACTION", "btree", "DESC", ...).
std::string_view ToString(ForeignKeyAction value);
std::string_view ToString(MatchType value);
std::string_view ToString(ConstraintType value);
std::string_view ToString(IndexMethod value);
std::string_view ToString(SortOrder value);
std::string_view ToString(NullsOrder value);
std::string_view ToString(IdentityKind value);
std::string_view ToString(ReplicaIdentityType value);

// A named CHECK constraint on one column.
struct CheckConstraint {
  std::string name;
  std::string constraint;  // the SQL boolean expression
  bool no_inherit = false;
  bool operator==(const CheckConstraint&) const = default;
};

// A named UNIQUE constraint on one column (alter_column's `unique`).
struct UniqueConstraint {
  std::string name;
  bool operator==(const UniqueConstraint&) const = default;
};

// A single-column foreign key: this column references `table`.`column`.
struct ForeignKeyReference {
  std::string name;
  std::string table;
  std::string column;
  ForeignKeyAction on_delete = ForeignKeyAction::kNoAction;
  ForeignKeyAction on_update = ForeignKeyAction::kNoAction;
  MatchType match_type = MatchType::kSimple;
  bool deferrable = false;
  bool initially_deferred = false;
  bool operator==(const ForeignKeyReference&) const = default;
};

// The referenced side of a multi-column foreign key (table constraints, create_constraint).
struct TableForeignKeyReference {
  std::string table;
  std::vector<std::string> columns;
  ForeignKeyAction on_delete = ForeignKeyAction::kNoAction;
  ForeignKeyAction on_update = ForeignKeyAction::kNoAction;
  MatchType match_type = MatchType::kSimple;
  // ON DELETE SET NULL (a, b): only with on_delete SET NULL / SET DEFAULT, a subset of columns.
  std::vector<std::string> on_delete_set_columns;
  bool operator==(const TableForeignKeyReference&) const = default;
};

// GENERATED ... AS IDENTITY settings.
struct IdentityOptions {
  std::optional<std::string> sequence_options;  // as in CREATE SEQUENCE
  IdentityKind user_specified_values = IdentityKind::kAlways;
  bool operator==(const IdentityOptions&) const = default;
};

// A generated column: exactly one of `expression` (STORED) or `identity` is set.
struct GeneratedColumn {
  std::optional<std::string> expression;
  std::optional<IdentityOptions> identity;
  bool operator==(const GeneratedColumn&) const = default;
};

// A column definition (create_table, add_column). As in pgroll, columns are NOT NULL unless
// `nullable: true`. `default_value` is the JSON key `default` (a C++ keyword).
struct Column {
  std::string name;
  std::string type;
  bool nullable = false;
  std::optional<std::string> default_value;  // an SQL expression, e.g. "'unnamed'" or "now()"
  bool pk = false;
  bool unique = false;
  std::optional<CheckConstraint> check;
  std::optional<ForeignKeyReference> references;
  std::optional<std::string> comment;
  std::optional<GeneratedColumn> generated;
  bool operator==(const Column&) const = default;
};

// WITH (...), INCLUDE (...) and USING INDEX TABLESPACE of a unique or primary key constraint.
struct IndexParameters {
  std::optional<std::string> tablespace;
  std::optional<std::string> storage_parameters;
  std::vector<std::string> include_columns;
  bool operator==(const IndexParameters&) const = default;
};

// EXCLUDE USING <index_method> (<elements>) WHERE (<predicate>).
struct ExcludeConstraint {
  std::optional<std::string> index_method;
  std::string elements;
  std::optional<std::string> predicate;
  bool operator==(const ExcludeConstraint&) const = default;
};

// A table-level constraint of create_table.
struct Constraint {
  std::string name;
  ConstraintType type = ConstraintType::kUnique;
  std::vector<std::string> columns;
  bool deferrable = false;
  bool initially_deferred = false;
  bool nulls_not_distinct = false;
  bool no_inherit = false;
  std::optional<std::string> check;                    // type check only
  std::optional<TableForeignKeyReference> references;  // type foreign_key only
  std::optional<ExcludeConstraint> exclude;            // type exclude only
  std::optional<IndexParameters> index_parameters;     // unique / primary_key
  bool operator==(const Constraint&) const = default;
};

// Operator class of one index element, with optional parameters.
struct IndexOpclass {
  std::optional<std::string> name;
  std::vector<std::string> params;
  bool operator==(const IndexOpclass&) const = default;
};

// One element of an index: a column with its collation, operator class and ordering.
struct IndexField {
  std::string column;
  std::optional<std::string> collate;
  std::optional<SortOrder> sort;
  std::optional<NullsOrder> nulls;
  std::optional<IndexOpclass> opclass;
  bool operator==(const IndexField&) const = default;
};

// REPLICA IDENTITY of a table; `index` is set only for kIndex.
struct ReplicaIdentity {
  ReplicaIdentityType type = ReplicaIdentityType::kDefault;
  std::optional<std::string> index;
  bool operator==(const ReplicaIdentity&) const = default;
};

// --- Operations: one struct per key of pgroll's PgRollOperation. ---

// create_table: a new table with its columns and table constraints.
struct CreateTable {
  std::string name;
  std::vector<Column> columns;
  std::optional<std::string> comment;
  std::vector<Constraint> constraints;
  bool operator==(const CreateTable&) const = default;
};

// add_column: a new column; `up` computes it for existing rows and rows old clients write.
struct AddColumn {
  std::string table;
  Column column;
  std::optional<std::string> up;
  bool operator==(const AddColumn&) const = default;
};

// alter_column: one or more changes to one column. `up` maps old values to new, `down` back.
// `default_value` and `comment` are tri-state: absent = unchanged, null = drop, value = set.
struct AlterColumn {
  std::string table;
  std::string column;
  std::optional<std::string> up;
  std::optional<std::string> down;
  std::optional<std::string> type;
  std::optional<bool> nullable;
  Nullable<std::string> default_value;
  std::optional<CheckConstraint> check;
  std::optional<UniqueConstraint> unique;
  std::optional<ForeignKeyReference> references;
  Nullable<std::string> comment;
  bool operator==(const AlterColumn&) const = default;
};

// rename_column: `from` becomes `to` in the new version only.
struct RenameColumn {
  std::string table;
  std::string from;
  std::string to;
  bool operator==(const RenameColumn&) const = default;
};

// drop_column: the column disappears from the new version; `down` fills it for old clients.
struct DropColumn {
  std::string table;
  std::string column;
  std::optional<std::string> down;
  bool operator==(const DropColumn&) const = default;
};

// rename_table: `from` becomes `to`.
struct RenameTable {
  std::string from;
  std::string to;
  bool operator==(const RenameTable&) const = default;
};

// drop_table: the table disappears from the new version; dropped for real on complete.
struct DropTable {
  std::string name;
  bool operator==(const DropTable&) const = default;
};

// A column whose definition a rebuild_table changes: the new heap holds it with the new type,
// nullability, default or comment, filled by `up` from the old row; `down` fills the old column
// from the new version's row while both versions run.
struct RebuildColumn {
  std::string column;
  std::optional<std::string> type;
  std::optional<bool> nullable;
  Nullable<std::string> default_value;
  Nullable<std::string> comment;
  std::optional<std::string> up;
  std::optional<std::string> down;
  bool operator==(const RebuildColumn&) const = default;
};

// rebuild_table: the table is copied into a new heap (in key order, indexes rebuilt) and swapped
// in, as pg_repack does: it reclaims bloat and, with `columns`, changes those columns in the same
// copy (one copy for many changes). `alter` gives the changes as ALTER TABLE clauses; whoever
// reads the file turns them into `columns` (sql::LowerRebuildClauses) before the engine sees it.
struct RebuildTable {
  std::string table;
  std::vector<RebuildColumn> columns;
  std::optional<std::string> alter;
  bool operator==(const RebuildTable&) const = default;
};

// create_index: CREATE [UNIQUE] INDEX CONCURRENTLY. Columns always come out of the reader as
// IndexField, whatever form (list of names, map, list of objects) the file used.
struct CreateIndex {
  std::string name;
  std::string table;
  std::vector<IndexField> columns;
  std::optional<std::string> predicate;
  std::optional<IndexMethod> method;
  std::optional<std::string> storage_parameters;
  bool unique = false;
  bool operator==(const CreateIndex&) const = default;
};

// drop_index: DROP INDEX CONCURRENTLY.
struct DropIndex {
  std::string name;
  bool operator==(const DropIndex&) const = default;
};

// rename_constraint: `from` becomes `to` on `table`.
struct RenameConstraint {
  std::string table;
  std::string from;
  std::string to;
  bool operator==(const RenameConstraint&) const = default;
};

// drop_constraint (deprecated by pgroll in favour of drop_multicolumn_constraint): removes a
// single-column constraint; `up` and `down` rewrite values across versions.
struct DropConstraint {
  std::string table;
  std::string name;
  std::optional<std::string> up;
  std::optional<std::string> down;
  bool operator==(const DropConstraint&) const = default;
};

// create_constraint: a table constraint on existing columns; `up` / `down` map each column name
// to its SQL rewrite, and must cover every column in `columns`.
struct CreateConstraint {
  std::string table;
  std::string name;
  ConstraintType type = ConstraintType::kUnique;  // never kExclude
  std::vector<std::string> columns;
  std::optional<std::string> check;
  bool no_inherit = false;
  std::optional<IndexParameters> index_parameters;
  std::optional<TableForeignKeyReference> references;
  std::map<std::string, std::string> up;
  std::map<std::string, std::string> down;
  bool operator==(const CreateConstraint&) const = default;
};

// drop_multicolumn_constraint: removes a constraint that may span several columns.
struct DropMultiColumnConstraint {
  std::string table;
  std::string name;
  std::map<std::string, std::string> up;
  std::map<std::string, std::string> down;
  bool operator==(const DropMultiColumnConstraint&) const = default;
};

// set_replica_identity: ALTER TABLE ... REPLICA IDENTITY.
struct SetReplicaIdentity {
  std::string table;
  ReplicaIdentity identity;
  bool operator==(const SetReplicaIdentity&) const = default;
};

// sql: raw SQL run as is (JSON key `sql`). With on_complete it runs at complete instead of start
// and cannot have a `down`.
struct RawSql {
  std::string up;
  std::optional<std::string> down;
  bool on_complete = false;  // JSON key `onComplete`
  bool operator==(const RawSql&) const = default;
};

// Any operation. The order of alternatives is not part of any format; do not rely on index().
using Operation = std::variant<CreateTable, AddColumn, AlterColumn, RenameColumn, DropColumn,
                               RenameTable, DropTable, CreateIndex, DropIndex, RenameConstraint,
                               DropConstraint, CreateConstraint, DropMultiColumnConstraint,
                               SetReplicaIdentity, RebuildTable, RawSql>;

// A migration: a named, ordered list of operations.
struct Migration {
  std::string name;
  std::optional<std::string> version_schema;
  std::vector<Operation> operations;
  std::string source;  // where it was read from, for messages; not part of the JSON form
  bool operator==(const Migration&) const = default;
};

// The operation's key in the migration format: "create_table", "alter_column", "sql", ...
std::string_view OperationName(const Operation& operation);

// The tables an operation reads or changes, in the order they appear in it: for rename_table
// both names, for foreign keys the referenced table too. Empty for raw sql and drop_index, whose
// tables cannot be known without the SQL or the catalog.
std::vector<std::string> TablesTouched(const Operation& operation);

}  // namespace zerodown::model
