// Who may use a version schema: the application's roles reach the new version's views as they
// reached the tables. The schema gets USAGE for each role that has it on the tables' schema;
// each view gets the privileges its table has, table- and column-level (a column's grants follow
// it under its new version's name); the view of a table with row-level security reads it as the
// querying role (security_invoker), so that the table's policies apply to that role and not to
// the view's owner.
#pragma once

#include <string>
#include <utility>
#include <vector>

#include "zerodown/pg/connection.hpp"

namespace zerodown::engine {

// A view whose table or columns the new version names differently: `view` reads `table`, and
// each pair of `columns` is (view column, table column).
struct RenamedView {
  std::string view;
  std::string table;
  std::vector<std::pair<std::string, std::string>> columns;
};

// One statement, run after the version schema `version` and its views are created: the grants
// and options above, read from the catalog when it runs. Views not in `renamed` read the table
// of their own name, column for column.
std::string VersionGrantsSql(pg::Connection& conn, const std::string& schema,
                             const std::string& version, const std::vector<RenamedView>& renamed);

}  // namespace zerodown::engine
