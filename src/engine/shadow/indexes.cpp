#include "engine/shadow/indexes.hpp"

#include <fmt/format.h>

namespace zerodown::engine::shadow {

std::string CoversKey(const std::vector<std::string>& key_columns, std::vector<pg::Param>& params) {
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

bool HasUniqueBeyondKey(pg::Connection& c, const std::vector<std::string>& key_columns,
                        const std::string& table) {
  std::vector<pg::Param> params = {table};
  std::string covers = CoversKey(key_columns, params);
  return c
      .Exec(fmt::format("SELECT EXISTS (SELECT 1 FROM pg_index i WHERE i.indrelid "
                        "= $1::regclass AND i.indisunique AND NOT {})",
                        covers),
            params)
      .Bool(0, 0);
}

std::vector<IndexToBuild> LiveIndexes(pg::Connection& c, const Context& ctx) {
  c.Exec("SELECT set_config('search_path', 'pg_catalog', true)");
  std::vector<pg::Param> params = {ctx.live};
  std::string covers = CoversKey(ctx.spec.key_columns, params);
  pg::Rows rows = c.ExecPrepared(
      fmt::format(
          "SELECT i.indexrelid::oid::text, ic.relname, pg_get_indexdef(i.indexrelid), "
          "coalesce(k.contype::text, ''), coalesce(k.condeferrable, false), "
          "coalesce(k.condeferred, false), i.indisunique AND NOT {} FROM pg_index i JOIN "
          "pg_class ic ON ic.oid = i.indexrelid LEFT JOIN pg_constraint k ON k.conindid = "
          "i.indexrelid AND k.conrelid = i.indrelid AND k.contype IN ('p', 'u') WHERE "
          "i.indrelid = $1::regclass AND i.indisvalid ORDER BY i.indisprimary DESC, ic.relname",
          covers),
      params);
  std::vector<IndexToBuild> out;
  for (int r = 0; r < rows.size(); ++r) {
    out.push_back({rows.Text(r, 0), rows.Text(r, 1), rows.Text(r, 2), rows.Text(r, 3),
                   rows.Bool(r, 4), rows.Bool(r, 5), rows.Bool(r, 6)});
  }
  return out;
}

std::string TempIndexName(const IndexToBuild& index) { return "_zd_ix_" + index.oid; }

std::string LiveText(pg::Connection& c, const std::string& live) {
  return c
      .Exec(
          "SELECT quote_ident(n.nspname) || '.' || quote_ident(c.relname) FROM pg_class c JOIN "
          "pg_namespace n ON n.oid = c.relnamespace WHERE c.oid = $1::regclass",
          {live})
      .Text(0, 0);
}

std::vector<std::string> RenameIndexes(pg::Connection& c, const Context& ctx,
                                       const std::vector<IndexToBuild>& indexes) {
  std::vector<std::string> before;
  std::vector<std::string> after;
  for (const auto& index : indexes) {
    std::string old_name = c.Ident("_zd_old_" + index.oid);
    std::string temp = c.Ident(TempIndexName(index));
    if (index.constraint.empty()) {
      before.push_back(fmt::format("ALTER INDEX {} RENAME TO {}",
                                   c.Ident(ctx.spec.schema, index.name), old_name));
      after.push_back(fmt::format("ALTER INDEX {} RENAME TO {}",
                                  c.Ident(ctx.spec.schema, TempIndexName(index)),
                                  c.Ident(index.name)));
    } else {
      before.push_back(fmt::format("ALTER TABLE {} RENAME CONSTRAINT {} TO {}", ctx.live,
                                   c.Ident(index.name), old_name));
      after.push_back(fmt::format("ALTER TABLE {} RENAME CONSTRAINT {} TO {}", ctx.shadow, temp,
                                  c.Ident(index.name)));
    }
  }
  before.insert(before.end(), after.begin(), after.end());
  return before;
}

}  // namespace zerodown::engine::shadow
