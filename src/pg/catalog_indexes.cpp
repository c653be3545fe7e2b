#include "zerodown/pg/catalog_indexes.hpp"

#include <fmt/format.h>

#include <nlohmann/json.hpp>

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

std::vector<IndexDetail> IndexDetails(Connection& conn, const std::string& regclass) {
  Rows rows = conn.Exec(
      "SELECT ic.relname, pg_get_indexdef(i.indexrelid), i.indisprimary, i.indisvalid, "
      "coalesce(k.conname::text, ''), coalesce(k.contype::text, ''), "
      "coalesce(k.condeferrable, false), coalesce(k.condeferred, false), "
      "obj_description(i.indexrelid, 'pg_class'), obj_description(k.oid, 'pg_constraint'), "
      "i.indisclustered, i.indisreplident, "
      "to_json(ARRAY(SELECT a.attname FROM pg_attribute a WHERE a.attrelid = i.indrelid AND "
      "a.attnum > 0 AND (a.attnum = ANY (i.indkey) OR a.attnum IN (SELECT d.refobjsubid FROM "
      "pg_depend d WHERE d.classid = 'pg_class'::regclass AND d.objid = i.indexrelid AND "
      "d.refclassid = 'pg_class'::regclass AND d.refobjid = i.indrelid)) ORDER BY "
      "a.attnum))::text, "
      "i.indexrelid::oid::text FROM pg_index i JOIN pg_class ic ON ic.oid = i.indexrelid "
      "LEFT JOIN pg_constraint k ON k.conindid = i.indexrelid AND k.conrelid = i.indrelid "
      "AND k.contype IN ('p', 'u', 'x') "
      "WHERE i.indrelid = $1::regclass ORDER BY ic.relname",
      {regclass});
  std::vector<IndexDetail> out;
  for (int r = 0; r < rows.size(); ++r) {
    IndexDetail i;
    i.name = rows.Text(r, 0);
    i.definition = rows.Text(r, 1);
    i.primary = rows.Bool(r, 2);
    i.valid = rows.Bool(r, 3);
    i.constraint = rows.Text(r, 4);
    i.constraint_type = rows.Text(r, 5).empty() ? 0 : rows.Text(r, 5)[0];
    i.deferrable = rows.Bool(r, 6);
    i.deferred = rows.Bool(r, 7);
    i.index_comment = rows.Optional(r, 8);
    i.constraint_comment = rows.Optional(r, 9);
    i.clustered = rows.Bool(r, 10);
    i.replica_identity = rows.Bool(r, 11);
    i.columns = nlohmann::json::parse(rows.Text(r, 12)).get<std::vector<std::string>>();
    i.oid = rows.Text(r, 13);
    out.push_back(std::move(i));
  }
  return out;
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
