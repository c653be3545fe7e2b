// The machinery the operations that change what a column may hold share (alter_column's type,
// nullable, check, unique and references; create_constraint; drop_constraint and
// drop_multicolumn_constraint): each changed column gets a physical copy (_zd_new_<column>)
// beside the original, one row trigger keeps every pair in step (up fills a copy from the row as
// the old version sees it, down fills an original from the row as the new version sees it) and
// enforces pending CHECKs, a batched backfill fills existing rows, and the new version's view
// shows the copies under the columns' names. Constraints on the copies are enforced from start
// without a long lock: a foreign key NOT VALID, a unique index built CONCURRENTLY, a check in the
// trigger. The indexes and unique constraints over the originals are built again over the copies
// (IndexDuplication). complete drops the originals (their constraints and indexes go with them),
// renames the copies, gives the rebuilt indexes the originals' names and attaches the constraints
// under the user's names; rollback drops the copies and their indexes. No original is ever
// rewritten. It plans; it runs no DDL.
//
// Its files: column_duplication.cpp checks the columns (Validate),
// column_duplication_constraints.cpp the constraints on the copies (Add*),
// column_duplication_mechanism.cpp chooses between the in-place backfill and the shadow copy and
// what verify compares, column_duplication_plan.cpp emits the actions; carried_constraints.cpp
// carries the table's checks and foreign keys over.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "engine/data_probe.hpp"
#include "engine/ops/index_duplication.hpp"
#include "engine/sync_trigger.hpp"
#include "zerodown/engine/operation.hpp"
#include "zerodown/pg/catalog.hpp"

namespace zerodown::engine::ops {

// The physical name of a column's copy is this prefix and the column's name.
inline constexpr std::string_view kCopyPrefix = "_zd_new_";

// One column to copy, and what changes about it in the copy.
struct ColumnChange {
  std::string column;                          // as both versions name it
  std::optional<std::string> type;             // the copy's type; the column's own when absent
  std::optional<bool> nullable;                // whether the copy may hold NULL; as now when absent
  model::Nullable<std::string> default_value;  // absent: keep the column's default
  model::Nullable<std::string> comment;        // absent: keep the column's comment
  std::optional<std::string> up;    // the copy from the old version's row; the column when absent
  std::optional<std::string> down;  // the original from the new version's row; likewise
  // Where each part came from in the operation, for error messages.
  std::string column_field = "column";
  std::string type_field = "type";
  std::string up_field = "up";
  std::string down_field = "down";
};

// A CHECK the copies must satisfy: enforced by the trigger from start, added NOT VALID and
// validated after complete's rename (only then do its column names name physical columns).
struct CopyCheck {
  std::string name;
  std::string expression;  // over the columns as the new version names them
  bool no_inherit = false;
  // A check the table already has over a copied column, carried over to the copy: its name is
  // taken until complete drops the original (and the check with it), and it is validated only
  // when the original was.
  bool carried = false;
  bool validate = true;
};

// A UNIQUE constraint over copied columns: an index built CONCURRENTLY after the backfill,
// attached as the constraint at complete.
struct CopyUnique {
  std::string name;
  std::vector<std::string> columns;  // as the new version names them; each one is copied
  bool nulls_not_distinct = false;
  std::optional<model::IndexParameters> parameters;
};

// A FOREIGN KEY from copied columns: NOT VALID on the copies at start (it follows them through
// complete's rename), validated at complete.
struct CopyForeignKey {
  std::string name;
  std::vector<std::string> columns;  // as the new version names them; each one is copied
  std::string table;                 // the referenced table, as the new version names it
  std::vector<std::string> referenced_columns;
  model::ForeignKeyAction on_delete = model::ForeignKeyAction::kNoAction;
  model::ForeignKeyAction on_update = model::ForeignKeyAction::kNoAction;
  model::MatchType match_type = model::MatchType::kSimple;
  std::vector<std::string> on_delete_set_columns;
  bool deferrable = false;
  bool initially_deferred = false;
  // A foreign key the table already has over a copied column: `name` is a temporary one until
  // complete drops the original and renames this one to `carried_from`.
  std::string carried_from;
};

// The columns of constraint `name` on `table`, as the new version names them, read from the
// catalog: kNotFound when the table has no such constraint, kInvalidMigration for a primary key
// (its columns are the backfill's key and cannot be copied). The drop operations share it.
Result<std::vector<std::string>> ConstraintColumns(PlanContext& context, VirtualTable& table,
                                                   const std::string& name);

class ColumnDuplication {
 public:
  // Checks every change against the table as the new version sees it and the catalog: the
  // columns exist, are not key columns, are not used by a check, foreign key or exclusion
  // constraint that the drop of the original would lose (except `dropping`, the constraint an
  // operation removes), are not referenced by another table's foreign key; the indexes and unique
  // constraints over them can be built again over the copies (IndexDuplication); types exist; up
  // and down compile. Nothing changes.
  Status Validate(PlanContext& context, const std::string& table, std::vector<ColumnChange> changes,
                  const std::optional<std::string>& dropping = std::nullopt);
  // Each checks its constraint (name free, columns copied, expression compiles, referenced key
  // exists) and records it. Call after Validate; `field` names it in errors.
  Status AddCheck(PlanContext& context, CopyCheck check, std::string_view field);
  Status AddUnique(PlanContext& context, CopyUnique unique, std::string_view field);
  Status AddForeignKey(PlanContext& context, CopyForeignKey key, std::string_view field);
  // Always copy the table into a new heap, whatever its size: `operation` (rebuild_table) is a
  // copy by definition. Call before Validate.
  void RequireShadowCopy(std::string operation) { shadow_required_by_ = std::move(operation); }
  // Appends start, complete and rollback actions and points the virtual columns at the copies.
  void Plan(PlanContext& context);

 private:
  struct Prepared {
    ColumnChange change;
    std::string old_physical;
    std::string new_physical;
    std::string old_type;
    std::string new_type;
    bool not_null = false;
    std::optional<std::string> final_default;
    std::optional<std::string> final_comment;
    std::vector<std::string> owned_sequences;  // qualified, quoted
  };

  Status ValidateColumn(PlanContext& context, VirtualTable& table, const ColumnChange& change,
                        const std::optional<std::string>& dropping);
  // What the catalog says of original `c` that its copy must keep or that forbids a copy: an
  // identity or generated column, the constraints over it (carried or refused), another table's
  // foreign key to it; fills `p`'s comment and owned sequences.
  Status ReadOriginal(PlanContext& context, VirtualTable& table, const VirtualColumn& c,
                      const ColumnChange& change, const std::optional<std::string>& dropping,
                      Prepared& p);
  // ReadOriginal's part for the constraints over `c`: each carried to the copies or refused
  // (kInvalidMigration naming it and the fix).
  Status CarryConstraints(PlanContext& context, VirtualTable& table, const pg::TableInfo& info,
                          const VirtualColumn& c, const ColumnChange& change,
                          const std::optional<std::string>& dropping);
  // Validate's checks of the expressions: the carried checks over the new columns, up and down.
  Status CheckExpressions(PlanContext& context, VirtualTable& table,
                          const std::string& first_field);
  // Records `constraint`, a check of the table over copied column `column`, as one the copies
  // must satisfy (once, however many of its columns are copied); kInvalidMigration when one of
  // its columns goes by another name in the new version (renamed earlier in the migration).
  Status CarryCheck(const VirtualTable& table, const VirtualColumn& column,
                    const pg::ConstraintInfo& constraint, const std::string& field);
  // Likewise for a foreign key from copied columns: added NOT VALID on the copies under a
  // temporary name at start, validated and renamed at complete. kInvalidMigration for one whose
  // referenced table lives in another schema or that sets only some columns on delete.
  Status CarryForeignKey(PlanContext& context, const VirtualTable& table,
                         const VirtualColumn& column, const pg::ConstraintInfo& constraint,
                         const std::string& field);
  Status RequireFreeConstraintName(PlanContext& context, const std::string& name,
                                   std::string_view field, bool index_too);
  // Decides between an in-place backfill and a shadow copy (the --mechanism, the table's size,
  // what blocks a copy); kInvalidMigration when --mechanism=shadow and the table cannot be
  // copied.
  Status ChooseMechanism(PlanContext& context, const VirtualTable& table);
  // The start action that copies the table into a new heap with the copies filled by up.
  Action PlanShadowCopy(PlanContext& context, const VirtualTable& table,
                        const std::vector<std::string>& after_swap_sql,
                        const std::string& names) const;
  // What `zerodown verify` compares for one copy: up over the old row against the copy.
  ColumnCheck VerifyCheck(PlanContext& context, const VirtualTable& table, const Prepared& p) const;
  // What the rows already in the table must satisfy: up for each copy, NOT NULL, the checks and
  // unique constraints (the data checks before start, and the naming of a row a fill fails on).
  DataProbe Probe(PlanContext& context, const VirtualTable& table) const;
  // The copy's physical name for a column as the new version names it, or an error.
  Result<std::string> CopyOf(const std::string& column, std::string_view field) const;
  // kInvalidMigration naming the first of `columns` this operation does not copy.
  Status RequireCopied(const std::vector<std::string>& columns, std::string_view field) const;
  // `names` with each copied column replaced by its copy; the others (a carried foreign key may
  // read columns this operation does not copy) keep their names.
  std::vector<std::string> CopiesOf(const std::vector<std::string>& names) const;
  // kInvalidMigration unless a valid unique index of `ref` covers exactly `physical`, with no
  // WHERE.
  Status RequireReferencedKey(PlanContext& context, const VirtualTable& ref,
                              const std::vector<std::string>& physical,
                              std::string_view field) const;

  // Plan's parts, in the order it runs them.
  SyncTrigger BuildTrigger(PlanContext& context, const VirtualTable& table);
  // "copy (type) beside original, …", for the actions' descriptions.
  std::string CopiesNames() const;
  // A NOT VALID `IS NOT NULL` check for each copy that must be NOT NULL, added at start with the
  // copies, and its validation at complete.
  struct NotNullChecks {
    std::vector<std::string> add;
    std::vector<std::string> validate;
  };
  NotNullChecks PlanNotNullChecks(PlanContext& context, const VirtualTable& table) const;
  void PlanAddCopies(PlanContext& context, const VirtualTable& table,
                     const std::vector<std::string>& after_add, const std::string& names);
  void PlanForeignKeys(PlanContext& context, const VirtualTable& table);
  void PlanUniqueIndexes(PlanContext& context, VirtualTable& table);
  void PlanValidations(PlanContext& context, const VirtualTable& table,
                       const std::vector<std::string>& validate_not_null);
  // The complete statements that drop the originals and give the copies their names.
  std::vector<std::string> SwapSql(PlanContext& context, const VirtualTable& table,
                                   std::vector<std::string> swap) const;
  void PlanCheckValidations(PlanContext& context, const VirtualTable& table);
  void PlanRollback(PlanContext& context, const VirtualTable& table, std::vector<std::string> undo,
                    const std::string& swapped);
  void TakeCopies(VirtualTable& table) const;

  std::string table_;
  std::vector<Prepared> columns_;
  std::vector<VirtualColumn> old_columns_;  // the table as the old version names it
  std::vector<VirtualColumn> new_columns_;  // as the new version does, copies as physicals
  std::vector<CopyCheck> checks_;
  std::vector<CopyUnique> uniques_;
  std::vector<CopyForeignKey> foreign_keys_;
  IndexDuplication indexes_;  // the indexes over the originals, built again over the copies
  bool shadow_ = false;
  std::string shadow_required_by_;  // the operation that is a copy by definition, if any
  std::string mechanism_note_;      // why the planner chose what it chose, for `zerodown plan`
};

}  // namespace zerodown::engine::ops
