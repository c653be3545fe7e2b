#include "zerodown/pg/catalog_indexes.hpp"

#include <fmt/format.h>

namespace zerodown::pg {

namespace {

// SQL true for an index `i` (of pg_index) whose plain columns include every key column: two
// rows with different keys never collide in it. Appends the key's names to `params`.
std::string CoversKey(const std::vector<std::string>& key_columns, std::vector<Param>& params) {
  std::string keys;
  for (const auto& column : key_columns) {
    params.emplace_back(column);
    keys += fmt::format("{}${}::name", keys.empty() ? "" : ", ", params.size());
  }
  return fmt::format(
      "ARRAY(SELECT a.attname FROM pg_attribute a WHERE a.attrelid = i.indrelid AND a.attnum = "
      "ANY (i.indkey)) @> ARRAY[{}]",
      keys);
}

}  // namespace

std::vector<IndexDefinition> ValidIndexes(Connection& conn, const std::string& regclass,
                                          const std::vector<std::string>& key_columns) {
  std::vector<Param> params = {regclass};
  std::string covers = CoversKey(key_columns, params);
  Rows rows = conn.ExecPrepared(
      fmt::format(
          "SELECT i.indexrelid::oid::text, ic.relname, pg_get_indexdef(i.indexrelid), "
          "coalesce(k.contype::text, ''), coalesce(k.condeferrable, false), "
          "coalesce(k.condeferred, false), i.indisunique AND NOT {} FROM pg_index i JOIN "
          "pg_class ic ON ic.oid = i.indexrelid LEFT JOIN pg_constraint k ON k.conindid = "
          "i.indexrelid AND k.conrelid = i.indrelid AND k.contype IN ('p', 'u') WHERE "
          "i.indrelid = $1::regclass AND i.indisvalid ORDER BY i.indisprimary DESC, ic.relname",
          covers),
      params);
  std::vector<IndexDefinition> indexes;
  for (int r = 0; r < rows.size(); ++r) {
    indexes.push_back({rows.Text(r, 0), rows.Text(r, 1), rows.Text(r, 2), rows.Text(r, 3),
                       rows.Bool(r, 4), rows.Bool(r, 5), rows.Bool(r, 6)});
  }
  return indexes;
}

bool HasUniqueIndexBeyond(Connection& conn, const std::string& regclass,
                          const std::vector<std::string>& key_columns) {
  std::vector<Param> params = {regclass};
  std::string covers = CoversKey(key_columns, params);
  return conn
      .Exec(fmt::format("SELECT EXISTS (SELECT 1 FROM pg_index i WHERE i.indrelid "
                        "= $1::regclass AND i.indisunique AND NOT {})",
                        covers),
            params)
      .Bool(0, 0);
}

}  // namespace zerodown::pg
