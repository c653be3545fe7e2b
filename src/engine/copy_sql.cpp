#include "engine/copy_sql.hpp"

#include <fmt/format.h>

#include <map>
#include <set>

#include "zerodown/pg/catalog.hpp"

namespace zerodown::engine {

CopySql BuildCopySql(pg::Connection& conn, const ShadowCopySpec& spec,
                     const std::string& qualified) {
  std::map<std::string, std::string> alias_of;
  for (const auto& n : spec.names) {
    if (!n.physical.empty()) alias_of[n.physical] = n.name;
  }
  std::vector<pg::RelationColumn> columns = pg::RelationColumns(conn, qualified);
  std::map<std::string, const RetypedColumn*> retyped;
  for (const auto& r : spec.retyped) retyped[r.name] = &r;
  CopySql sql;
  std::set<std::string> used;
  for (std::size_t i = 0; i < columns.size(); ++i) {
    std::string physical = columns[i].name;
    auto it = alias_of.find(physical);
    std::string alias = it == alias_of.end() ? physical : it->second;
    // A column the old version does not see could carry a name it uses for another one.
    if (!used.insert(alias).second) alias = fmt::format("_zd_col_{}", i);
    sql.source_list +=
        fmt::format("{}{} AS {}", i ? ", " : "", conn.Ident(physical), conn.Ident(alias));
    // A generated column is computed again by the new heap: read (an `up` may use it), not
    // written.
    if (columns[i].generated) continue;
    std::string sep = sql.insert_columns.empty() ? "" : ", ";
    sql.insert_columns += sep + conn.Ident(physical);
    auto type = retyped.find(physical);
    sql.select_list +=
        sep + (type == retyped.end()
                   ? conn.Ident(alias)
                   : fmt::format("CAST(({}) AS {})", type->second->expression, type->second->type));
  }
  for (const auto& n : spec.names) {
    if (n.physical.empty() && used.insert(n.name).second) {
      sql.source_list += fmt::format(", CAST(NULL AS {}) AS {}", n.type, conn.Ident(n.name));
    }
  }
  for (const auto& a : spec.added) {
    sql.insert_columns += ", " + conn.Ident(a.name);
    sql.select_list += fmt::format(", CAST(({}) AS {})", a.expression, a.type);
  }
  return sql;
}

}  // namespace zerodown::engine
