#include "engine/ops/index_sql.hpp"

#include <fmt/format.h>

namespace zerodown::engine::ops {
namespace {

std::string IncludeClause(pg::Connection& conn, VirtualTable& table,
                          const std::optional<model::IndexParameters>& parameters) {
  if (!parameters || parameters->include_columns.empty()) return "";
  std::vector<std::string> physical;
  for (const auto& c : parameters->include_columns) {
    physical.push_back(table.FindColumn(c)->physical);
  }
  return " INCLUDE (" + IdentList(conn, physical) + ")";
}

// WITH (…) and the tablespace: what follows INCLUDE and NULLS NOT DISTINCT in PostgreSQL's
// grammar.
std::string StorageClauses(pg::Connection& conn,
                           const std::optional<model::IndexParameters>& parameters,
                           IndexClauses where) {
  if (!parameters) return "";
  std::string out;
  if (parameters->storage_parameters) out += " WITH (" + *parameters->storage_parameters + ")";
  if (parameters->tablespace) {
    out += (where == IndexClauses::kCreateIndex ? " TABLESPACE " : " USING INDEX TABLESPACE ") +
           conn.Ident(*parameters->tablespace);
  }
  return out;
}

}  // namespace

std::string IdentList(pg::Connection& conn, const std::vector<std::string>& names) {
  std::string list;
  for (const auto& n : names) list += (list.empty() ? "" : ", ") + conn.Ident(n);
  return list;
}

std::string IndexParameterClauses(pg::Connection& conn, VirtualTable& table,
                                  const std::optional<model::IndexParameters>& parameters,
                                  IndexClauses where) {
  return IncludeClause(conn, table, parameters) + StorageClauses(conn, parameters, where);
}

std::string CreateUniqueIndexConcurrentlySql(pg::Connection& conn, const std::string& qualified,
                                             VirtualTable& table, const UniqueIndexBuild& build) {
  return fmt::format("CREATE UNIQUE INDEX CONCURRENTLY {} ON {} ({}){}{}{}", conn.Ident(build.name),
                     qualified, IdentList(conn, build.columns),
                     IncludeClause(conn, table, build.parameters),
                     build.nulls_not_distinct ? " NULLS NOT DISTINCT" : "",
                     StorageClauses(conn, build.parameters, IndexClauses::kCreateIndex));
}

Action UniqueIndexBuildAction(PlanContext& context, VirtualTable& table, std::string_view id,
                              std::string description, const UniqueIndexBuild& build) {
  pg::Connection& conn = context.conn();
  Action action;
  action.id = context.ActionId(id);
  action.kind = ActionKind::kNonTransactional;
  action.description = std::move(description);
  action.lock = "SHARE UPDATE EXCLUSIVE while it builds (reads and writes go on)";
  action.sql = {
      fmt::format("DROP INDEX CONCURRENTLY IF EXISTS {}", conn.Ident(context.schema(), build.name)),
      CreateUniqueIndexConcurrentlySql(conn, context.Qualified(table), table, build)};
  return action;
}

}  // namespace zerodown::engine::ops
