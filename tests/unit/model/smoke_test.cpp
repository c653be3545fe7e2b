#include <gtest/gtest.h>

#include "zerodown/model/migration_reader.hpp"

namespace zerodown::model {
namespace {

TEST(MigrationReaderSmokeTest, ParsesAddColumn) {
  auto m = ParseMigration(
      "operations:\n  - add_column:\n      table: t\n      up: 1\n      column:\n        name: c\n "
      "       type: int\n",
      Format::kYaml, "dir/05_x.yaml");
  ASSERT_TRUE(m.ok()) << m.error().Describe();
  EXPECT_EQ(m->name, "05_x");
}

}  // namespace
}  // namespace zerodown::model
