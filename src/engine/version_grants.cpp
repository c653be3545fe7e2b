#include "engine/version_grants.hpp"

#include <fmt/format.h>

namespace zerodown::engine {

namespace {

// A VALUES list that is never empty: a row of NULLs matches nothing.
std::string Values(const std::vector<std::vector<std::string>>& rows, std::size_t width,
                   pg::Connection& conn) {
  std::string nulls;
  for (std::size_t i = 0; i < width; ++i) nulls += fmt::format("{}NULL::text", i ? ", " : "");
  std::string out = "(" + nulls + ")";
  for (const auto& row : rows) {
    std::string items;
    for (const auto& value : row) items += (items.empty() ? "" : ", ") + conn.Literal(value);
    out += ", (" + items + ")";
  }
  return out;
}

}  // namespace

std::string VersionGrantsSql(pg::Connection& conn, const std::string& schema,
                             const std::string& version, const std::vector<RenamedView>& renamed) {
  std::vector<std::vector<std::string>> tables;
  std::vector<std::vector<std::string>> columns;
  for (const auto& r : renamed) {
    tables.push_back({r.view, r.table});
    for (const auto& [view_column, table_column] : r.columns) {
      columns.push_back({r.view, view_column, table_column});
    }
  }
  // Privilege names come from aclexplode and role names go through quote_ident: the EXECUTEd
  // statements hold no text a user wrote unquoted.
  return fmt::format(
      "DO $zd_grants$ DECLARE g record; BEGIN "
      "FOR g IN SELECT coalesce(r.rolname, '') AS who FROM pg_namespace n CROSS JOIN LATERAL "
      "aclexplode(n.nspacl) a LEFT JOIN pg_roles r ON r.oid = a.grantee WHERE n.nspname = "
      "{schema} AND a.privilege_type = 'USAGE' AND a.grantee <> n.nspowner LOOP "
      "EXECUTE format('GRANT USAGE ON SCHEMA %I TO %s', {version}, CASE g.who WHEN '' THEN "
      "'PUBLIC' ELSE quote_ident(g.who) END); END LOOP; "
      "FOR g IN WITH m AS (SELECT v.oid AS view_oid, v.relname AS view, t.oid AS tbl, t.relowner, "
      "t.relacl, t.relrowsecurity FROM pg_class v JOIN pg_class t ON t.relnamespace = "
      "(SELECT oid FROM pg_namespace WHERE nspname = {schema}) AND t.relkind IN ('r', 'p') AND "
      "t.relname = coalesce((SELECT "
      "x.tbl FROM (VALUES {tables}) AS x(view, tbl) WHERE x.view = v.relname), v.relname) WHERE "
      "v.relnamespace = (SELECT oid FROM pg_namespace WHERE nspname = {version}) AND v.relkind = "
      "'v') "
      "SELECT m.view, '' AS col, a.privilege_type, a.is_grantable, coalesce(r.rolname, '') AS "
      "who, m.relrowsecurity FROM m CROSS JOIN LATERAL aclexplode(m.relacl) a LEFT JOIN pg_roles "
      "r ON r.oid = a.grantee WHERE a.grantee <> m.relowner "
      "UNION ALL SELECT m.view, va.attname, a.privilege_type, a.is_grantable, "
      "coalesce(r.rolname, ''), m.relrowsecurity FROM m JOIN pg_attribute va ON va.attrelid = "
      "m.view_oid AND va.attnum > 0 JOIN pg_attribute ta ON ta.attrelid = m.tbl AND ta.attnum > "
      "0 AND NOT ta.attisdropped AND (ta.attname = va.attname OR ta.attname = (SELECT x.col FROM "
      "(VALUES {columns}) AS x(view, view_col, col) WHERE x.view = m.view AND x.view_col = "
      "va.attname)) CROSS JOIN LATERAL aclexplode(ta.attacl) a LEFT JOIN pg_roles r ON r.oid = "
      "a.grantee "
      "UNION ALL SELECT m.view, NULL, NULL, NULL, NULL, true FROM m WHERE m.relrowsecurity "
      "LOOP "
      "IF g.privilege_type IS NULL THEN EXECUTE format('ALTER VIEW %I.%I SET (security_invoker = "
      "true)', {version}, g.view); CONTINUE; END IF; "
      "EXECUTE format('GRANT %s%s ON %I.%I TO %s%s', g.privilege_type, CASE g.col WHEN '' THEN '' "
      "ELSE format(' (%I)', g.col) END, {version}, g.view, CASE g.who WHEN '' THEN 'PUBLIC' ELSE "
      "quote_ident(g.who) END, CASE WHEN g.is_grantable THEN ' WITH GRANT OPTION' ELSE '' END); "
      "END LOOP; END $zd_grants$",
      fmt::arg("schema", conn.Literal(schema)), fmt::arg("version", conn.Literal(version)),
      fmt::arg("tables", Values(tables, 2, conn)), fmt::arg("columns", Values(columns, 3, conn)));
}

}  // namespace zerodown::engine
