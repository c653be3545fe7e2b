#include "zerodown/pg/catalog_schemas.hpp"

#include <fmt/format.h>

namespace zerodown::pg {

std::string ObjectsOtherThanViewsClause(std::string_view schema) {
  return fmt::format(
      "FROM pg_depend d WHERE d.refclassid = 'pg_namespace'::regclass AND d.refobjid = (SELECT "
      "oid FROM pg_namespace WHERE nspname = {}) AND NOT (d.classid = 'pg_class'::regclass AND "
      "EXISTS (SELECT 1 FROM pg_class c WHERE c.oid = d.objid AND c.relkind = 'v'))",
      schema);
}

std::string DependentsOutsideClause(std::string_view schema) {
  return fmt::format(
      "FROM pg_depend d JOIN pg_class v ON v.oid = d.refobjid WHERE d.refclassid = "
      "'pg_class'::regclass AND d.deptype = 'n' AND v.relnamespace = (SELECT oid FROM "
      "pg_namespace WHERE nspname = {}) AND NOT (d.classid = 'pg_rewrite'::regclass AND EXISTS "
      "(SELECT 1 FROM pg_rewrite r JOIN pg_class o ON o.oid = r.ev_class WHERE r.oid = d.objid "
      "AND o.relnamespace = v.relnamespace))",
      schema);
}

std::int64_t ObjectsInSchema(Connection& conn, const std::string& schema) {
  return conn
      .Exec(
          "SELECT count(*) FROM pg_depend WHERE refclassid = 'pg_namespace'::regclass AND "
          "refobjid = (SELECT oid FROM pg_namespace WHERE nspname = $1)",
          {schema})
      .Int(0, 0);
}

std::int64_t ObjectsOtherThanViewsInSchema(Connection& conn, const std::string& schema) {
  return conn.Exec("SELECT count(*) " + ObjectsOtherThanViewsClause("$1"), {schema}).Int(0, 0);
}

}  // namespace zerodown::pg
