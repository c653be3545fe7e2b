// The SQL fragments a key-ordered pass over a table needs (the backfill, the shadow copy): the
// key's column list, its types for typed parameters, and row comparisons against parameters.
// Built once per pass from the catalog; composite keys compare as rows.
#pragma once

#include <fmt/format.h>

#include <string>
#include <string_view>
#include <vector>

#include "zerodown/pg/catalog.hpp"
#include "zerodown/pg/connection.hpp"

namespace zerodown::engine {

struct KeySql {
  std::vector<std::string> names;  // quoted
  std::vector<std::string> types;  // format_type of each key column
  std::string list;                // "k1", "k2"
  std::string descending;          // "k1" DESC, "k2" DESC
  // "k1"::text AS _zd_key0, …: aliased, or ORDER BY "k1" would sort by this text column.
  std::string text_select;

  // ("k1", "k2") <op> ($first::t1, $first+1::t2)
  std::string Compare(std::string_view op, std::size_t first) const {
    std::string params;
    for (std::size_t i = 0; i < types.size(); ++i) {
      params += fmt::format("{}${}::{}", i ? ", " : "", first + i, types[i]);
    }
    return fmt::format("({}) {} ({})", list, op, params);
  }
  // alias."k1" IS NULL AND …: a change log's entry for a TRUNCATE, which has no key.
  std::string AllNull(std::string_view alias) const {
    std::string out;
    for (const auto& n : names) {
      out += fmt::format("{}{}.{} IS NULL", out.empty() ? "" : " AND ", alias, n);
    }
    return out;
  }
  // left."k1" = right."k1" AND …
  std::string Join(std::string_view left, std::string_view right) const {
    std::string out;
    for (const auto& n : names) {
      out += fmt::format("{}{}.{} = {}.{}", out.empty() ? "" : " AND ", left, n, right, n);
    }
    return out;
  }
};

// `qualified` is the table's quoted, schema-qualified name.
inline KeySql BuildKeySql(pg::Connection& conn, const std::string& qualified,
                          const std::vector<std::string>& key_columns) {
  KeySql k;
  for (std::size_t i = 0; i < key_columns.size(); ++i) {
    k.types.push_back(pg::ColumnType(conn, qualified, key_columns[i]));
    std::string name = conn.Ident(key_columns[i]);
    std::string sep = i ? ", " : "";
    k.names.push_back(name);
    k.list += sep + name;
    k.descending += sep + name + " DESC";
    k.text_select += sep + fmt::format("{}::text AS _zd_key{}", name, i);
  }
  return k;
}

}  // namespace zerodown::engine
