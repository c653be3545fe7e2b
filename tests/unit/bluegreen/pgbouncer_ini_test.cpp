// The ini edit a PgBouncer switch makes: the entry's line found in [databases] only, its host,
// port and dbname replaced in place, every other byte of the file kept.
#include "bluegreen/pgbouncer_ini.hpp"

#include <gtest/gtest.h>

namespace zerodown::bluegreen {
namespace {

const Endpoint kGreen{"/tmp/green sock", "5433", "shop"};

constexpr std::string_view kIni =
    "; comment\r\n"
    "[pgbouncer]\r\n"
    "app = not a database line\r\n"
    "[databases]\r\n"
    "other = host=db1 port=5432 dbname=other\r\n"
    "  app = host=db1   port=5432 dbname=shop pool_size=20 password='it''s'\r\n"
    "\"my-db\" = dbname=x\r\n"
    "[users]\r\n";

TEST(PgBouncerIni, FindsTheEntryInDatabasesOnly) {
  auto line = FindDatabaseLine(kIni, "app");
  ASSERT_TRUE(line.ok());
  ASSERT_TRUE(line->has_value());
  EXPECT_EQ((*line)->text,
            "  app = host=db1   port=5432 dbname=shop pool_size=20 password='it''s'");
  auto quoted = FindDatabaseLine(kIni, "my-db");
  ASSERT_TRUE(quoted.ok() && quoted->has_value());
  EXPECT_EQ((*quoted)->text, "\"my-db\" = dbname=x");
  auto missing = FindDatabaseLine(kIni, "shop");
  ASSERT_TRUE(missing.ok());
  EXPECT_FALSE(missing->has_value());
}

TEST(PgBouncerIni, RefusesAnEntryNamedTwice) {
  auto line = FindDatabaseLine("[databases]\na = dbname=x\na = dbname=y\n", "a");
  ASSERT_FALSE(line.ok());
  EXPECT_EQ(line.error().kind(), ErrorKind::kConflict);
}

TEST(PgBouncerIni, PointsTheLineElsewhereAndKeepsEveryOtherByte) {
  auto line = FindDatabaseLine(kIni, "app");
  auto pointed = PointLineAt((*line)->text, kGreen);
  ASSERT_TRUE(pointed.ok());
  EXPECT_EQ(*pointed,
            "  app = host='/tmp/green sock'   port=5433 dbname=shop pool_size=20 "
            "password='it''s'");
  std::string ini = ReplaceLine(kIni, **line, *pointed);
  std::string expected(kIni);
  expected.replace(expected.find("  app ="), (*line)->text.size(), *pointed);
  EXPECT_EQ(ini, expected);
  // And back again: the original line, byte for byte.
  auto again = FindDatabaseLine(ini, "app");
  EXPECT_EQ(ReplaceLine(ini, **again, (*line)->text), kIni);
}

TEST(PgBouncerIni, AppendsWhatTheLineDidNotName) {
  auto pointed = PointLineAt("\"my-db\" = dbname=x  ", kGreen);
  ASSERT_TRUE(pointed.ok());
  EXPECT_EQ(*pointed, "\"my-db\" = dbname=shop host='/tmp/green sock' port=5433  ");
}

TEST(PgBouncerIni, RefusesALineItCannotRead) {
  EXPECT_FALSE(PointLineAt("app = host", kGreen).ok());
  EXPECT_FALSE(PointLineAt("app = password='open", kGreen).ok());
}

}  // namespace
}  // namespace zerodown::bluegreen
