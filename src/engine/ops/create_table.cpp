// create_table: a new table nobody uses yet, so it is created directly under its real name; the
// new version's view exposes it, and rollback drops it.
#include <cctype>
#include <map>
#include <set>

#include "engine/ops/index_sql.hpp"
#include "engine/ops/op_support.hpp"
#include "engine/ops/registry.hpp"

namespace zerodown::engine::ops {

namespace {

std::string ForeignKeyClause(pg::Connection& conn, const std::string& schema,
                             const model::ForeignKeyReference& ref) {
  return fmt::format("CONSTRAINT {} REFERENCES {} ({}) MATCH {} ON DELETE {} ON UPDATE {}{}{}",
                     conn.Ident(ref.name), conn.Ident(schema, ref.table), conn.Ident(ref.column),
                     model::ToString(ref.match_type), model::ToString(ref.on_delete),
                     model::ToString(ref.on_update), ref.deferrable ? " DEFERRABLE" : "",
                     ref.initially_deferred ? " INITIALLY DEFERRED" : "");
}

// EXCLUDE USING <method> (<elements>) <index parameters> WHERE (<predicate>), as PostgreSQL's
// grammar orders them; elements and predicate are SQL the user wrote, like a check's expression.
std::string ExcludeClause(pg::Connection& conn, const model::Constraint& k) {
  const model::ExcludeConstraint& e = *k.exclude;
  std::string clause = fmt::format("EXCLUDE USING {} ({})",
                                   conn.Ident(e.index_method.value_or("btree")), e.elements);
  if (const auto& p = k.index_parameters) {
    if (!p->include_columns.empty())
      clause += " INCLUDE (" + IdentList(conn, p->include_columns) + ")";
    if (p->storage_parameters) clause += " WITH (" + *p->storage_parameters + ")";
    if (p->tablespace) clause += " USING INDEX TABLESPACE " + conn.Ident(*p->tablespace);
  }
  if (e.predicate) clause += " WHERE (" + *e.predicate + ")";
  if (k.deferrable) clause += " DEFERRABLE";
  if (k.initially_deferred) clause += " INITIALLY DEFERRED";
  return clause;
}

// serial and friends are not types but a column shorthand (integer + sequence + default), so
// to_regtype does not know them; the views and expression checks need the real type.
std::optional<std::string> SerialType(const std::string& type) {
  static const std::map<std::string, std::string> kSerials = {
      {"smallserial", "smallint"}, {"serial2", "smallint"}, {"serial", "integer"},
      {"serial4", "integer"},      {"bigserial", "bigint"}, {"serial8", "bigint"}};
  std::string lower;
  for (char ch : type) lower += static_cast<char>(std::tolower(static_cast<unsigned char>(ch)));
  auto it = kSerials.find(lower);
  if (it == kSerials.end()) return std::nullopt;
  return it->second;
}

class CreateTablePlanner final : public OperationPlanner {
 public:
  explicit CreateTablePlanner(model::CreateTable op) : op_(std::move(op)) {}

  Status Validate(PlanContext& context) override {
    if (Status s = RequireNoTable(context, op_.name, "name"); !s.ok()) return s;
    if (Status s = RequireNoRelationYet(context, op_.name, "name"); !s.ok()) return s;
    for (std::size_t i = 0; i < op_.columns.size(); ++i) {
      const auto& c = op_.columns[i];
      std::string field = fmt::format("columns[{}].type", i);
      if (!SerialType(c.type)) {
        if (Status s = context.CheckType(c.type, field); !s.ok()) return s;
      }
      if (c.references && !context.FindTable(c.references->table)) {
        return Error(ErrorKind::kNotFound,
                     fmt::format("referenced table \"{}\" does not exist", c.references->table),
                     "Create it first, in this migration or an earlier one.")
            .WithWhere(fmt::format("field columns[{}].references.table", i));
      }
    }
    return {};
  }

  void Plan(PlanContext& context) override {
    pg::Connection& conn = context.conn();
    std::string table = conn.Ident(context.schema(), op_.name);
    std::vector<std::string> parts;
    std::vector<std::string> pk;
    VirtualTable virtual_table{op_.name, op_.name, {}, {}, true};
    for (const auto& c : op_.columns) {
      if (c.pk) pk.push_back(c.name);
      parts.push_back(ColumnDefinition(context, c));
      virtual_table.columns.push_back({c.name, c.name, SerialType(c.type).value_or(c.type),
                                       c.nullable && !c.pk, std::nullopt, true, c.default_value});
    }
    for (const auto& k : op_.constraints) {
      if (k.type == model::ConstraintType::kPrimaryKey) {
        pk = k.columns;
      } else if (auto clause = ConstraintClause(context, k)) {
        parts.push_back(*clause);
      }
    }
    if (!pk.empty()) parts.push_back("PRIMARY KEY (" + IdentList(conn, pk) + ")");
    std::string body;
    for (const auto& p : parts) body += (body.empty() ? "" : ", ") + p;
    std::vector<std::string> sql = {fmt::format("CREATE TABLE IF NOT EXISTS {} ({})", table, body)};
    if (op_.comment) {
      sql.push_back(fmt::format("COMMENT ON TABLE {} IS {}", table, conn.Literal(*op_.comment)));
    }
    for (const auto& c : op_.columns) {
      if (c.comment) {
        sql.push_back(fmt::format("COMMENT ON COLUMN {}.{} IS {}", table, conn.Ident(c.name),
                                  conn.Literal(*c.comment)));
      }
    }
    context.AddStart(context.Ddl("create", fmt::format("create table {}", op_.name),
                                 "none on existing tables (SHARE ROW EXCLUSIVE on referenced "
                                 "tables for foreign keys), instant",
                                 sql));
    context.AddRollback({context.Ddl("drop", fmt::format("drop table {}", op_.name),
                                     "ACCESS EXCLUSIVE on the new table only",
                                     {fmt::format("DROP TABLE IF EXISTS {}", table)})});
    virtual_table.key_columns = pk;
    context.AddTable(std::move(virtual_table));
  }

 private:
  // `name type [GENERATED …] [NOT NULL] [DEFAULT …] [UNIQUE] [CHECK …] [REFERENCES …]`.
  static std::string ColumnDefinition(PlanContext& context, const model::Column& c) {
    pg::Connection& conn = context.conn();
    std::string def = conn.Ident(c.name) + " " + c.type;
    if (c.generated && c.generated->expression) {
      def += fmt::format(" GENERATED ALWAYS AS ({}) STORED", *c.generated->expression);
    } else if (c.generated && c.generated->identity) {
      def += fmt::format(" GENERATED {} AS IDENTITY",
                         model::ToString(c.generated->identity->user_specified_values));
      if (c.generated->identity->sequence_options) {
        def += " (" + *c.generated->identity->sequence_options + ")";
      }
    }
    if (!c.nullable) def += " NOT NULL";
    if (c.default_value) def += " DEFAULT " + *c.default_value;
    if (c.unique) def += " UNIQUE";
    if (c.check) {
      def +=
          fmt::format(" CONSTRAINT {} CHECK ({})", conn.Ident(c.check->name), c.check->constraint);
    }
    if (c.references) def += " " + ForeignKeyClause(conn, context.schema(), *c.references);
    return def;
  }

  // A table constraint but the primary key (which the table's clause takes), or nullopt when
  // there is nothing to write.
  static std::optional<std::string> ConstraintClause(PlanContext& context,
                                                     const model::Constraint& k) {
    pg::Connection& conn = context.conn();
    std::string name = "CONSTRAINT " + conn.Ident(k.name) + " ";
    switch (k.type) {
      case model::ConstraintType::kPrimaryKey:
        return std::nullopt;
      case model::ConstraintType::kUnique:
        return name + "UNIQUE " + (k.nulls_not_distinct ? "NULLS NOT DISTINCT " : "") + "(" +
               IdentList(conn, k.columns) + ")";
      case model::ConstraintType::kCheck:
        return name + "CHECK (" + k.check.value_or("true") + ")" +
               (k.no_inherit ? " NO INHERIT" : "");
      case model::ConstraintType::kForeignKey:
        if (!k.references) return std::nullopt;
        return fmt::format(
            "{}FOREIGN KEY ({}) REFERENCES {} ({}) MATCH {} ON DELETE {} ON UPDATE {}", name,
            IdentList(conn, k.columns), conn.Ident(context.schema(), k.references->table),
            IdentList(conn, k.references->columns), model::ToString(k.references->match_type),
            model::ToString(k.references->on_delete), model::ToString(k.references->on_update));
      case model::ConstraintType::kExclude:
        // A new table nobody uses yet: the index behind the constraint is built on no rows.
        if (!k.exclude) return std::nullopt;
        return name + ExcludeClause(conn, k);
    }
    return std::nullopt;
  }

  model::CreateTable op_;
};

}  // namespace

std::unique_ptr<OperationPlanner> MakeCreateTable(const model::CreateTable& op) {
  return std::make_unique<CreateTablePlanner>(op);
}

}  // namespace zerodown::engine::ops
