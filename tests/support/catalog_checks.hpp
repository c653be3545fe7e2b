// Test support: catalog comparisons the rollback tests share.
#pragma once

#include <gtest/gtest.h>

#include <array>
#include <cstdio>
#include <string>

#include "support/database.hpp"
#include "zerodown/pg/catalog.hpp"

namespace zerodown::testing {

// The table has the same columns, by name and type and in order, as `before` (a rollback left
// no copy and changed no type).
inline void ExpectSameColumns(const pg::TableInfo& before, const pg::TableInfo& after) {
  ASSERT_EQ(after.columns.size(), before.columns.size());
  for (std::size_t i = 0; i < after.columns.size(); ++i) {
    EXPECT_EQ(after.columns[i].name, before.columns[i].name);
    EXPECT_EQ(after.columns[i].type, before.columns[i].type);
  }
}

// What a user sees of a database: pg_dump's schema of every schema but zerodown's own, and every
// row of every table in them, as text.
struct Snapshot {
  std::string schema;
  std::string rows;
};

inline Snapshot TakeSnapshot(const std::string& conninfo) {
  Snapshot snapshot;
  std::string command = SharedCluster().bindir() +
                        "/pg_dump --schema-only --exclude-schema=zerodown --dbname " +
                        Quoted(conninfo) + " 2>&1";
  FILE* pipe = popen(command.c_str(), "r");
  std::array<char, 4096> buffer{};
  while (std::size_t n = fread(buffer.data(), 1, buffer.size(), pipe)) {
    snapshot.schema.append(buffer.data(), n);
  }
  EXPECT_EQ(pclose(pipe), 0) << snapshot.schema;
  // pg_dump 15.14+ brackets its output with \restrict and \unrestrict and a random key.
  std::string kept;
  std::size_t from = 0;
  while (from < snapshot.schema.size()) {
    std::size_t end = snapshot.schema.find('\n', from);
    end = end == std::string::npos ? snapshot.schema.size() : end + 1;
    std::string line = snapshot.schema.substr(from, end - from);
    if (line.rfind("\\restrict", 0) != 0 && line.rfind("\\unrestrict", 0) != 0) kept += line;
    from = end;
  }
  snapshot.schema = kept;
  pg::Connection conn = Connect(conninfo);
  pg::Rows tables = conn.Exec(
      "SELECT format('%I.%I', schemaname, tablename) FROM pg_tables WHERE schemaname NOT IN "
      "('zerodown', 'pg_catalog', 'information_schema') ORDER BY 1");
  for (int i = 0; i < tables.size(); ++i) {
    snapshot.rows += tables.Text(i, 0) + ":\n";
    snapshot.rows += conn.Exec(
                             "SELECT coalesce(string_agg(t::text, E'\\n' ORDER BY t::text), '') "
                             "FROM " +
                             tables.Text(i, 0) + " t")
                         .Text(0, 0);
  }
  return snapshot;
}

inline void ExpectSameSnapshot(const Snapshot& before, const Snapshot& after) {
  EXPECT_EQ(after.schema, before.schema);
  EXPECT_EQ(after.rows, before.rows);
}

}  // namespace zerodown::testing
