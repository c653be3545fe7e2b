#include "zerodown/sql/rebuild_clauses.hpp"

#include <fmt/format.h>

#include <algorithm>

#include "sql/rules/rule.hpp"
#include "zerodown/sql/parse.hpp"
#include "zerodown/sql/translate.hpp"

namespace zerodown::sql {

namespace {

// Folds one alter_column the translator made from a clause into the column's change.
Status Merge(const model::AlterColumn& clause, std::vector<model::RebuildColumn>& columns) {
  auto it = std::find_if(columns.begin(), columns.end(),
                         [&](const model::RebuildColumn& c) { return c.column == clause.column; });
  if (it == columns.end()) {
    columns.push_back({clause.column, {}, {}, {}, {}, {}, {}});
    it = columns.end() - 1;
  }
  model::RebuildColumn& column = *it;
  auto clash = [&](const char* what) {
    return Error(ErrorKind::kInvalidMigration,
                 fmt::format("the {} of column \"{}\" is given twice", what, clause.column),
                 "Give each change of a column once, in `alter` or in `columns`.");
  };
  if (clause.type) {
    if (column.type) return clash("type");
    column.type = clause.type;
    // The translator writes the column itself when there is no USING: the copy's default.
    bool using_expression = clause.up && *clause.up != rules::QuoteIdent(clause.column);
    if (using_expression) {
      if (column.up) return clash("up expression");
      column.up = clause.up;
    }
  }
  if (clause.nullable) {
    if (column.nullable) return clash("nullability");
    column.nullable = clause.nullable;
  }
  if (!clause.default_value.IsAbsent()) {
    if (!column.default_value.IsAbsent()) return clash("default");
    column.default_value = clause.default_value;
  }
  return {};
}

Status Lower(model::RebuildTable& op) {
  std::string text = fmt::format("ALTER TABLE {} {}", rules::QuoteIdent(op.table), *op.alter);
  auto parsed = ParseSql("alter", text);
  if (!parsed.ok()) {
    return Error(
        ErrorKind::kInvalidMigration,
        fmt::format("`alter` is not valid ALTER TABLE clauses: {}", parsed.error().message()),
        "Write the clauses as they would follow `ALTER TABLE <table>`, separated by "
        "commas, e.g. `ALTER COLUMN id TYPE bigint, ALTER COLUMN note SET NOT NULL`.");
  }
  if (parsed.value().statements.size() != 1 ||
      parsed.value().statements[0].kind != "AlterTableStmt") {
    return Error(ErrorKind::kInvalidMigration, "`alter` is not the clauses of one ALTER TABLE",
                 "Give only the clauses that would follow `ALTER TABLE <table>` (no `;`, no "
                 "second statement, no RENAME); put other statements in operations of their "
                 "own.");
  }
  auto translated = TranslateSql(parsed.value(), {});
  if (!translated.ok()) {
    return Error(
        ErrorKind::kInvalidMigration,
        fmt::format("`alter` has a clause a rebuild cannot make: {}", translated.error().message()),
        "A rebuild changes columns: ALTER COLUMN … TYPE … [USING …], SET/DROP NOT NULL, "
        "SET/DROP DEFAULT. Put other changes in operations of their own.");
  }
  for (const auto& operation : translated.value().operations) {
    const auto* clause = std::get_if<model::AlterColumn>(&operation);
    if (clause == nullptr) {
      return Error(ErrorKind::kInvalidMigration,
                   fmt::format("`alter` has a clause for the operation {}, which a rebuild "
                               "does not make",
                               model::OperationName(operation)),
                   fmt::format("Write it as a `{}` operation of its own (before or after this "
                               "one); a rebuild changes the type, nullability and default of "
                               "existing columns.",
                               model::OperationName(operation)));
    }
    if (Status s = Merge(*clause, op.columns); !s.ok()) return s;
  }
  op.alter.reset();
  return {};
}

}  // namespace

Status LowerRebuildClauses(model::Migration& migration) {
  for (std::size_t i = 0; i < migration.operations.size(); ++i) {
    auto* op = std::get_if<model::RebuildTable>(&migration.operations[i]);
    if (op == nullptr || !op->alter) continue;
    model::RebuildTable lowered = *op;
    if (Status s = Lower(lowered); !s.ok()) {
      return s.error().WithWhere(
          fmt::format("{}, operation {} (rebuild_table), field alter", migration.source, i + 1));
    }
    *op = std::move(lowered);
  }
  return {};
}

}  // namespace zerodown::sql
