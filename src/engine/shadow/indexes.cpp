#include "engine/shadow/indexes.hpp"

#include <fmt/format.h>

#include "zerodown/pg/catalog.hpp"
#include "zerodown/pg/catalog_indexes.hpp"

namespace zerodown::engine::shadow {

bool HasUniqueBeyondKey(pg::Connection& c, const std::vector<std::string>& key_columns,
                        const std::string& table) {
  return pg::HasUniqueIndexBeyond(c, table, key_columns);
}

std::vector<IndexToBuild> LiveIndexes(pg::Connection& c, const Context& ctx) {
  c.Exec("SELECT set_config('search_path', 'pg_catalog', true)");
  std::vector<IndexToBuild> out;
  for (pg::IndexDefinition& i : pg::ValidIndexes(c, ctx.live, ctx.spec.key_columns)) {
    out.push_back({std::move(i.oid), std::move(i.name), std::move(i.definition),
                   std::move(i.constraint), i.deferrable, i.deferred, i.beyond_key});
  }
  return out;
}

std::string TempIndexName(const IndexToBuild& index) { return "_zd_ix_" + index.oid; }

std::string LiveText(pg::Connection& c, const std::string& live) {
  return pg::QualifiedText(c, live);
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
