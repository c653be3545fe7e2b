#include "zerodown/pg/column_types.hpp"

namespace zerodown::pg {

std::vector<TypedColumn> AllColumnTypes(Connection& conn) {
  Rows rows = conn.Exec(
      "SELECT n.nspname, c.relname, a.attname, format_type(a.atttypid, a.atttypmod) "
      "FROM pg_attribute a JOIN pg_class c ON c.oid = a.attrelid "
      "JOIN pg_namespace n ON n.oid = c.relnamespace "
      "WHERE c.relkind IN ('r', 'p') AND a.attnum > 0 AND NOT a.attisdropped "
      "AND n.nspname NOT IN ('pg_catalog', 'information_schema', 'pg_toast')");
  std::vector<TypedColumn> columns;
  columns.reserve(static_cast<std::size_t>(rows.size()));
  for (int i = 0; i < rows.size(); ++i) {
    columns.push_back({rows.Text(i, 0), rows.Text(i, 1), rows.Text(i, 2), rows.Text(i, 3)});
  }
  return columns;
}

std::vector<std::pair<std::string, std::string>> ConstrainedDomains(Connection& conn,
                                                                    const std::string& schema) {
  Rows rows = conn.Exec(
      "SELECT CASE WHEN n.nspname = $1 THEN t.typname ELSE n.nspname || '.' || t.typname END, "
      "format_type(t.typbasetype, t.typtypmod) FROM pg_type t "
      "JOIN pg_namespace n ON n.oid = t.typnamespace "
      "WHERE t.typtype = 'd' AND (t.typnotnull OR EXISTS "
      "(SELECT 1 FROM pg_constraint c WHERE c.contypid = t.oid))",
      {schema});
  std::vector<std::pair<std::string, std::string>> domains;
  for (int i = 0; i < rows.size(); ++i) domains.emplace_back(rows.Text(i, 0), rows.Text(i, 1));
  return domains;
}

}  // namespace zerodown::pg
