#include "zerodown/pg/catalog_grants.hpp"

namespace zerodown::pg {

std::vector<Grant> RelationGrants(Connection& conn, const std::string& relation) {
  Rows rows = conn.ExecPrepared(
      "SELECT a.privilege_type, a.is_grantable, coalesce(r.rolname, ''), '' FROM pg_class c "
      "CROSS JOIN LATERAL aclexplode(c.relacl) a LEFT JOIN pg_roles r ON r.oid = a.grantee "
      "WHERE c.oid = $1::regclass AND a.grantee <> c.relowner "
      "UNION ALL SELECT a.privilege_type, a.is_grantable, coalesce(r.rolname, ''), "
      "att.attname FROM pg_attribute att CROSS JOIN LATERAL aclexplode(att.attacl) a LEFT JOIN "
      "pg_roles r ON r.oid = a.grantee WHERE att.attrelid = $1::regclass AND att.attnum > 0 "
      "AND NOT att.attisdropped",
      {relation});
  std::vector<Grant> grants;
  for (int r = 0; r < rows.size(); ++r) {
    grants.push_back({rows.Text(r, 0), rows.Bool(r, 1), rows.Text(r, 2), rows.Text(r, 3)});
  }
  return grants;
}

}  // namespace zerodown::pg
