// Test support: catalog comparisons the rollback tests share.
#pragma once

#include <gtest/gtest.h>

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

}  // namespace zerodown::testing
