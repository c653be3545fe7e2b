#include "zerodown/common/error.hpp"

#include <gtest/gtest.h>

namespace zerodown {
namespace {

TEST(ErrorTest, ExitCodesMatchTheDocumentedContract) {
  EXPECT_EQ(ExitCode(ErrorKind::kUsage), 2);
  EXPECT_EQ(ExitCode(ErrorKind::kInvalidMigration), 2);
  EXPECT_EQ(ExitCode(ErrorKind::kNotFound), 2);
  EXPECT_EQ(ExitCode(ErrorKind::kConnection), 3);
  EXPECT_EQ(ExitCode(ErrorKind::kMigrationFailed), 1);
  EXPECT_EQ(ExitCode(ErrorKind::kLockTimeout), 1);
}

TEST(ErrorTest, DescribeJoinsWhereMessageSqlstateAndFix) {
  Error error = Error(ErrorKind::kNotFound, "column \"x\" does not exist", "Check the column name.")
                    .WithWhere("004.yaml, operation 2 (alter_column)")
                    .WithSqlstate("42703");
  EXPECT_EQ(error.Describe(),
            "004.yaml, operation 2 (alter_column): column \"x\" does not exist. (SQLSTATE 42703) "
            "Check the column name.");
}

TEST(ErrorTest, WithWhereNestsOuterContextFirst) {
  Error error = Error(ErrorKind::kUsage, "bad").WithWhere("field up").WithWhere("file.yaml");
  EXPECT_EQ(error.where(), "file.yaml, field up");
}

TEST(ResultTest, HoldsValueOrError) {
  Result<int> good = 7;
  ASSERT_TRUE(good.ok());
  EXPECT_EQ(*good, 7);
  Result<int> bad = Error(ErrorKind::kUsage, "nope");
  ASSERT_FALSE(bad.ok());
  EXPECT_EQ(bad.error().kind(), ErrorKind::kUsage);
  EXPECT_THROW((void)bad.value(), Error);
}

TEST(StatusTest, DefaultIsOk) {
  Status status;
  EXPECT_TRUE(status.ok());
  Status failed = Error(ErrorKind::kConflict, "held");
  EXPECT_FALSE(failed.ok());
  EXPECT_THROW(failed.ThrowIfError(), Error);
}

}  // namespace
}  // namespace zerodown
