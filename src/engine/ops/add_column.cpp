// add_column: the column is added under its real name, nullable and without a volatile default,
// so ADD COLUMN is a catalog change. NOT NULL is a NOT VALID check until complete validates it
// without blocking writes; `up` fills existing rows and rows the old version inserts. A check
// and a foreign key go in NOT VALID at start (every write from then on is held to them, up's
// too) and are validated at complete; `unique` is an index built CONCURRENTLY and attached as
// the constraint at complete. `pk` is refused when the file is read (model/decode_table_ops.cpp).
#include "engine/ops/index_sql.hpp"
#include "engine/ops/op_support.hpp"
#include "engine/ops/registry.hpp"
#include "engine/sync_trigger.hpp"
#include "zerodown/pg/catalog.hpp"

namespace zerodown::engine::ops {

namespace {

// PostgreSQL's own name for a column's unique constraint (<table>_<column>_key).
std::string UniqueIndexName(const VirtualTable& table, const std::string& column) {
  return PlanContext::TempName("", table.physical + "_" + column + "_key");
}

class AddColumnPlanner final : public OperationPlanner {
 public:
  explicit AddColumnPlanner(model::AddColumn op) : op_(std::move(op)) {}

  Status Validate(PlanContext& context) override {
    auto table = context.Table(op_.table);
    if (!table.ok()) return table.error().WithWhere("field table");
    const model::Column& c = op_.column;
    if (Status s = RequireNoColumn(**table, c.name, "column.name"); !s.ok()) return s;
    if (Status s = RequireNoColumnYet(context, **table, c.name, "column.name"); !s.ok()) return s;
    // The unique index is built under this name, and a rerun of start drops what a failed build
    // left under it: it must not be the name of anything already there.
    if (std::string index = UniqueIndexName(**table, c.name);
        c.unique && RelationExists(context, index)) {
      return Error(ErrorKind::kInvalidMigration,
                   fmt::format("the unique index for column \"{}\" would be named \"{}\", which "
                               "an existing index or table of schema \"{}\" already has",
                               c.name, index, context.schema()),
                   "Leave `unique` out here and add the index with create_index (a name of your "
                   "own), then a unique constraint in a later migration.")
          .WithWhere("field column.unique");
    }
    if (Status s = context.CheckType(c.type, "column.type"); !s.ok()) return s;
    if (c.generated) {
      return Error(ErrorKind::kInvalidMigration,
                   "add_column with `generated` is not supported by this version of zerodown",
                   "Add the plain column here, filled by `up`, and make it generated in a "
                   "later migration with `sql`.")
          .WithWhere("field column.generated");
    }
    if (Status s = ValidateConstraints(context, **table); !s.ok()) return s;
    if (!c.nullable && !c.default_value && !op_.up) {
      return Error(ErrorKind::kInvalidMigration,
                   fmt::format("column \"{}\" is NOT NULL but has neither a default nor `up`",
                               c.name),
                   "Existing rows need a value: give `default`, or `up` (an expression over the "
                   "table's other columns), or `nullable: true`.")
          .WithWhere("field column.nullable");
    }
    if (c.default_value) {
      if (Status s =
              context.CheckExpression(**table, {}, *c.default_value, c.type, "column.default");
          !s.ok()) {
        return s;
      }
      constant_default_ = IsConstantDefault(context, *c.default_value);
    }
    if (op_.up) {
      if ((*table)->key_columns.empty()) return NeedsKey(**table);
      return context.CheckExpression(**table, (*table)->columns, *op_.up, c.type, "up");
    }
    if (c.default_value && !constant_default_ && (*table)->key_columns.empty()) {
      return NeedsKey(**table);
    }
    return {};
  }

  void Plan(PlanContext& context) override {
    VirtualTable& table = *context.FindTable(op_.table);
    pg::Connection& conn = context.conn();
    const model::Column& c = op_.column;
    std::string qualified = context.Qualified(table);
    std::string column = conn.Ident(c.name);
    // A non-volatile default is stored once in the catalog (PostgreSQL 11+); a volatile one
    // would rewrite the table, so it becomes `up` for existing rows instead.
    std::optional<std::string> up = op_.up;
    if (!up && c.default_value && !constant_default_) up = c.default_value;
    // With `up`, the default is the new version's alone until complete: a physical default would
    // fill existing rows and the old version's inserts, and the trigger only computes `up` for
    // NULLs, so `up` would never run.
    bool default_on_view = op_.up && c.default_value;

    std::vector<std::string> add = AddSql(context, qualified, default_on_view);
    std::vector<std::string> undo;
    if (up) undo = PlanUpTrigger(context, table, *up, default_on_view, add);
    AddConstraintsSql(context, qualified, add);
    context.AddStart(context.Ddl(
        "add_column", fmt::format("add column {} ({}) to {}", c.name, c.type, table.physical),
        "ACCESS EXCLUSIVE, instant (catalog only)", add));
    if (c.references) PlanForeignKey(context, table);
    if (up) {
      context.AddStart(
          BackfillAction(context, table, "backfill", fmt::format("{}.{}", table.physical, c.name)));
    }
    if (c.unique) PlanUnique(context, table);
    PlanValidations(context, table);
    if (!c.nullable) PlanNotNull(context, table);
    undo.push_back(fmt::format("ALTER TABLE {} DROP COLUMN IF EXISTS {}", qualified, column));
    context.AddRollback({context.Ddl("drop_column", fmt::format("drop column {}", c.name),
                                     "ACCESS EXCLUSIVE, instant", undo)});
    table.columns.push_back({c.name, c.name, c.type, c.nullable,
                             default_on_view ? c.default_value : std::nullopt, true,
                             c.default_value});
  }

 private:
  // The column with its constant default (or the default set apart when it is volatile) and
  // its comment.
  std::vector<std::string> AddSql(PlanContext& context, const std::string& qualified,
                                  bool default_on_view) const {
    pg::Connection& conn = context.conn();
    const model::Column& c = op_.column;
    std::string column = conn.Ident(c.name);
    std::vector<std::string> add = {fmt::format(
        "ALTER TABLE {} ADD COLUMN IF NOT EXISTS {} {}{}", qualified, column, c.type,
        c.default_value && constant_default_ && !default_on_view ? " DEFAULT " + *c.default_value
                                                                 : "")};
    if (c.default_value && !constant_default_ && !default_on_view) {
      add.push_back(fmt::format("ALTER TABLE {} ALTER COLUMN {} SET DEFAULT {}", qualified, column,
                                *c.default_value));
    }
    if (c.comment) {
      add.push_back(fmt::format("COMMENT ON COLUMN {}.{} IS {}", qualified, column,
                                conn.Literal(*c.comment)));
    }
    return add;
  }

  // The trigger that computes `up` for the old version's writes, added with the column; its
  // drop (and the view's default set on the column) at complete. Returns rollback's statements.
  std::vector<std::string> PlanUpTrigger(PlanContext& context, VirtualTable& table,
                                         const std::string& up, bool default_on_view,
                                         std::vector<std::string>& add) {
    const model::Column& c = op_.column;
    SyncSpec spec;
    spec.old_column = c.name;
    spec.new_column = c.name;
    spec.up = up;
    spec.mode = SyncMode::kUpOnly;
    spec.follow_updates = op_.up.has_value();
    spec.old_version_columns = table.columns;
    SyncTrigger sync = BuildSyncTrigger(context, table, spec).ValueOrThrow();
    add.insert(add.end(), sync.create_sql.begin(), sync.create_sql.end());
    std::vector<std::string> finish = sync.complete_drop_sql;
    if (default_on_view) {
      finish.insert(finish.begin(), fmt::format("ALTER TABLE {} ALTER COLUMN {} SET DEFAULT {}",
                                                CompleteQualified(context, table),
                                                context.conn().Ident(c.name), *c.default_value));
    }
    context.AddComplete(context.Ddl(
        "drop_trigger",
        default_on_view ? "set the default, drop the up trigger" : "drop the up trigger",
        "ACCESS EXCLUSIVE, instant", finish));
    return sync.drop_sql;
  }

  // The NOT NULL check goes in with the trigger, never before it: the old version's inserts
  // leave the column NULL and only the trigger fills it. A CHECK likewise: NOT VALID holds every
  // write from now on (up's too) without a scan.
  void AddConstraintsSql(PlanContext& context, const std::string& qualified,
                         std::vector<std::string>& add) const {
    pg::Connection& conn = context.conn();
    const model::Column& c = op_.column;
    if (!c.nullable) {
      add.push_back(fmt::format("ALTER TABLE {} ADD CONSTRAINT {} CHECK ({} IS NOT NULL) NOT VALID",
                                qualified, conn.Ident(PlanContext::TempName("_zd_nn_", c.name)),
                                conn.Ident(c.name)));
    }
    if (c.check) {
      add.push_back(fmt::format("ALTER TABLE {} ADD CONSTRAINT {} CHECK ({}){} NOT VALID",
                                qualified, conn.Ident(c.check->name), c.check->constraint,
                                c.check->no_inherit ? " NO INHERIT" : ""));
    }
  }

  // A unique index built concurrently at start, attached as the constraint at complete.
  void PlanUnique(PlanContext& context, VirtualTable& table) {
    pg::Connection& conn = context.conn();
    std::string index = UniqueIndexName(table, op_.column.name);
    UniqueIndexBuild build;
    build.name = index;
    build.columns = {op_.column.name};
    context.AddStart(
        UniqueIndexBuildAction(context, table, "unique_index",
                               fmt::format("build unique index {} concurrently", index), build));
    context.AddComplete(context.Ddl(
        "unique", fmt::format("attach {} as the UNIQUE constraint", index),
        "ACCESS EXCLUSIVE, instant (the index exists)",
        {fmt::format("ALTER TABLE {} ADD CONSTRAINT {} UNIQUE USING INDEX {}",
                     CompleteQualified(context, table), conn.Ident(index), conn.Ident(index))}));
  }

  // At complete: the check validated, then traded for SET NOT NULL, which needs no scan.
  void PlanNotNull(PlanContext& context, const VirtualTable& table) {
    pg::Connection& conn = context.conn();
    const model::Column& c = op_.column;
    std::string check = conn.Ident(PlanContext::TempName("_zd_nn_", c.name));
    std::string at_complete = CompleteQualified(context, table);
    context.AddComplete(context.Ddl(
        "validate", fmt::format("validate NOT NULL of {}", c.name),
        "SHARE UPDATE EXCLUSIVE while it scans (reads and writes go on)",
        {fmt::format("ALTER TABLE {} VALIDATE CONSTRAINT {}", context.Qualified(table), check)}));
    context.AddComplete(context.Ddl(
        "set_not_null", fmt::format("SET NOT NULL on {} (no scan: the check proves it)", c.name),
        "ACCESS EXCLUSIVE, instant",
        {fmt::format("ALTER TABLE {} ALTER COLUMN {} SET NOT NULL", at_complete,
                     conn.Ident(c.name)),
         fmt::format("ALTER TABLE {} DROP CONSTRAINT IF EXISTS {}", at_complete, check)}));
  }

  Status ValidateConstraints(PlanContext& context, VirtualTable& table) {
    const model::Column& c = op_.column;
    if (c.check || c.references) {
      // The constraint is added at start, when the table's columns still have their physical
      // names, and written as the new version names them.
      for (const auto& column : table.columns) {
        if (column.physical == column.name) continue;
        return Error(ErrorKind::kInvalidMigration,
                     fmt::format("column \"{}\" of table \"{}\" is renamed or changed by an "
                                 "earlier operation of this migration, so a constraint on the "
                                 "new column cannot be added until it completes",
                                 column.name, table.name),
                     "Add the column's check or foreign key in a later migration "
                     "(create_constraint), or move this add_column to a migration of its own.")
            .WithWhere(fmt::format("field column.{}", c.check ? "check" : "references"));
      }
    }
    if (c.check) {
      if (Status s = RequireFreeConstraint(context, table, c.check->name, "column.check.name");
          !s.ok()) {
        return s;
      }
      std::vector<VirtualColumn> columns = table.columns;
      columns.push_back({c.name, c.name, c.type, c.nullable, std::nullopt, true, std::nullopt});
      if (Status s = context.CheckExpression(table, columns, c.check->constraint, "boolean",
                                             "column.check.constraint");
          !s.ok()) {
        return s;
      }
    }
    if (c.references) return ValidateReferences(context, table);
    return {};
  }

  Status ValidateReferences(PlanContext& context, VirtualTable& table) {
    const model::ForeignKeyReference& r = *op_.column.references;
    if (Status s = RequireFreeConstraint(context, table, r.name, "column.references.name");
        !s.ok()) {
      return s;
    }
    auto referenced = context.Table(r.table);
    if (!referenced.ok()) return referenced.error().WithWhere("field column.references.table");
    VirtualTable& ref = **referenced;
    auto column = RequireColumn(ref, r.column, "column.references.column");
    if (!column.ok()) return column.error();
    if ((*column)->physical != (*column)->name || ((*column)->pending && !ref.created)) {
      return Error(ErrorKind::kInvalidMigration,
                   fmt::format("referenced column \"{}\" of \"{}\" changes in this migration",
                               r.column, ref.name),
                   "Reference it in a later migration.")
          .WithWhere("field column.references.column");
    }
    if (ref.created) return {};
    auto info = pg::DescribeTable(context.conn(), context.schema(), ref.physical);
    for (const auto& index : info ? info->indexes : std::vector<pg::IndexInfo>{}) {
      if (index.unique && index.valid && index.columns == std::vector{r.column} &&
          index.definition.find(" WHERE ") == std::string::npos) {
        return {};
      }
    }
    return Error(ErrorKind::kInvalidMigration,
                 fmt::format("column \"{}\" of \"{}\" is neither its primary key nor covered "
                             "by a unique constraint, so a foreign key cannot reference it",
                             r.column, ref.name),
                 "Reference the primary key, or create a unique constraint on that column in an "
                 "earlier migration.")
        .WithWhere("field column.references.column");
  }

  // NOT VALID: from now on every write is checked, the old version's through up too (the
  // referenced table is locked SHARE ROW EXCLUSIVE for an instant); complete validates the rows
  // that were there before. Before the backfill, so that the values up writes are checked.
  void PlanForeignKey(PlanContext& context, const VirtualTable& table) {
    pg::Connection& conn = context.conn();
    const model::ForeignKeyReference& r = *op_.column.references;
    const VirtualTable& ref = *context.FindTable(r.table);
    context.AddStart(context.Ddl(
        "foreign_key", fmt::format("add foreign key {} NOT VALID", r.name),
        "SHARE ROW EXCLUSIVE on the table and the referenced table, instant (NOT VALID: no scan)",
        {fmt::format("ALTER TABLE {} ADD CONSTRAINT {} FOREIGN KEY ({}) REFERENCES {} ({}) MATCH "
                     "{} ON DELETE {} ON UPDATE {}{}{} NOT VALID",
                     context.Qualified(table), conn.Ident(r.name), conn.Ident(op_.column.name),
                     context.Qualified(ref), conn.Ident(r.column), model::ToString(r.match_type),
                     model::ToString(r.on_delete), model::ToString(r.on_update),
                     r.deferrable ? " DEFERRABLE" : "",
                     r.initially_deferred ? " INITIALLY DEFERRED" : "")}));
  }

  // The planner runs these VALIDATEs first in complete, under the physical names; each scans
  // under SHARE UPDATE EXCLUSIVE, so reads and writes go on.
  void PlanValidations(PlanContext& context, const VirtualTable& table) {
    pg::Connection& conn = context.conn();
    const model::Column& c = op_.column;
    for (const std::string* name :
         {c.check ? &c.check->name : nullptr, c.references ? &c.references->name : nullptr}) {
      if (name == nullptr) continue;
      context.AddComplete(
          context.Ddl("validate_" + *name, fmt::format("validate constraint {}", *name),
                      "SHARE UPDATE EXCLUSIVE while it scans (ROW SHARE on a referenced table)",
                      {fmt::format("ALTER TABLE {} VALIDATE CONSTRAINT {}",
                                   context.Qualified(table), conn.Ident(*name))}));
    }
  }

  static Status RequireFreeConstraint(PlanContext& context, const VirtualTable& table,
                                      const std::string& name, std::string_view field) {
    if (table.created || !pg::ConstraintNamed(context.conn(), context.Qualified(table), name)) {
      return {};
    }
    return Error(
               ErrorKind::kInvalidMigration,
               fmt::format("table \"{}\" already has a constraint named \"{}\"", table.name, name),
               "Pick another name for the new constraint.")
        .WithWhere(fmt::format("field {}", field));
  }

  // Whether PostgreSQL would store this default as a "missing value" instead of rewriting the
  // table: asked of the server on a throwaway temp table in a rolled-back transaction, so the
  // answer is the server's own volatility rule.
  bool IsConstantDefault(PlanContext& context, const std::string& expression) {
    pg::Connection& conn = context.conn();
    pg::Transaction tx(conn);
    bool constant = false;
    if (conn.TryExec("CREATE TEMP TABLE _zd_default_probe (x int) ON COMMIT DROP").ok() &&
        conn.TryExec("INSERT INTO _zd_default_probe VALUES (1)").ok() &&
        conn.TryExec(fmt::format("ALTER TABLE _zd_default_probe ADD COLUMN y {} DEFAULT {}",
                                 op_.column.type, expression))
            .ok()) {
      auto rows = conn.TryExec(
          "SELECT atthasmissing FROM pg_attribute WHERE attrelid = '_zd_default_probe'::regclass "
          "AND attname = 'y'");
      constant = rows.ok() && !rows->empty() && rows->Bool(0, 0);
    }
    tx.Rollback();
    return constant;
  }

  model::AddColumn op_;
  bool constant_default_ = false;
};

}  // namespace

std::unique_ptr<OperationPlanner> MakeAddColumn(const model::AddColumn& op) {
  return std::make_unique<AddColumnPlanner>(op);
}

}  // namespace zerodown::engine::ops
