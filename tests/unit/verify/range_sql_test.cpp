// The SQL verify sends, without a database: ranges are low-exclusive, high-inclusive row
// comparisons over the whole key; key values only ever arrive as parameters, numbered low key
// first; the range size and sample limit are parameters too.
#include "verify/range_sql.hpp"

#include <gtest/gtest.h>

namespace zerodown::verify {
namespace {

KeySql SingleKey() { return {{"\"id\""}, {"integer"}}; }
KeySql CompositeKey() { return {{"\"region\"", "\"id\""}, {"text", "bigint"}}; }

TEST(RangeSqlTest, CompositeKeyComparesAsARowWithTypedTextParameters) {
  EXPECT_EQ(CompositeKey().Compare(">", 1),
            "(\"region\", \"id\") > ($1::text::text, $2::text::bigint)");
  EXPECT_EQ(CompositeKey().Compare("<=", 3, "t"),
            "(t.\"region\", t.\"id\") <= ($3::text::text, $4::text::bigint)");
  EXPECT_EQ(SingleKey().Compare(">", 1), "(\"id\") > ($1::text::integer)");
}

TEST(RangeSqlTest, RangeFilterNumbersLowKeyBeforeHighKey) {
  KeySql key = CompositeKey();
  EXPECT_EQ(RangeFilter(key, {false, false}), "TRUE");
  EXPECT_EQ(RangeParams(key, {false, false}), 0u);
  EXPECT_EQ(RangeFilter(key, {false, true}),
            "(\"region\", \"id\") <= ($1::text::text, $2::text::bigint)");
  EXPECT_EQ(RangeParams(key, {false, true}), 2u);
  EXPECT_EQ(RangeFilter(key, {true, false}),
            "(\"region\", \"id\") > ($1::text::text, $2::text::bigint)");
  EXPECT_EQ(RangeFilter(key, {true, true}),
            "(\"region\", \"id\") > ($1::text::text, $2::text::bigint) AND (\"region\", \"id\") "
            "<= ($3::text::text, $4::text::bigint)");
  EXPECT_EQ(RangeParams(key, {true, true}), 4u);
}

TEST(RangeSqlTest, UpperKeyIsAnOrderedIndexWalkWithTheOffsetAsAParameter) {
  EXPECT_EQ(UpperKeySql(SingleKey(), "\"public\".\"accounts\"", false),
            "SELECT \"id\"::text AS _zd_key0 FROM \"public\".\"accounts\" WHERE TRUE ORDER BY "
            "\"id\" OFFSET $1 LIMIT 2");
  EXPECT_EQ(UpperKeySql(CompositeKey(), "\"s\".\"t\"", true),
            "SELECT \"region\"::text AS _zd_key0, \"id\"::text AS _zd_key1 FROM \"s\".\"t\" WHERE "
            "(\"region\", \"id\") > ($1::text::text, $2::text::bigint) ORDER BY \"region\", "
            "\"id\" OFFSET $3 LIMIT 2");
}

TEST(RangeSqlTest, RowCountWrapsTheCheckAndFiltersOnItsKey) {
  std::string sql =
      RowCountSql(SingleKey(), "SELECT id, a AS expected, b AS actual FROM t", {true, true});
  EXPECT_EQ(sql,
            "SELECT count(*), count(*) FILTER (WHERE expected IS DISTINCT FROM actual) FROM "
            "(SELECT id, a AS expected, b AS actual FROM t) AS _zd_rows WHERE (\"id\") > "
            "($1::text::integer) AND (\"id\") <= ($2::text::integer)");
}

TEST(RangeSqlTest, SamplesComeInKeyOrderLimitedByTheParameterAfterTheRange) {
  std::string sql = RowSampleSql(SingleKey(), "SELECT 1", {false, true});
  EXPECT_NE(sql.find("WHERE ((\"id\") <= ($1::text::integer)) AND expected IS DISTINCT FROM "
                     "actual ORDER BY \"id\" LIMIT $2"),
            std::string::npos)
      << sql;
  EXPECT_NE(sql.find("expected::text, actual::text"), std::string::npos) << sql;
}

TEST(RangeSqlTest, TableChecksumHashesRowTextsInKeyOrder) {
  std::string row = RowText({"\"id\"", "\"note\""});
  EXPECT_EQ(row, "ROW(\"id\", \"note\")::text");
  EXPECT_EQ(TableChecksumSql(SingleKey(), "\"s\".\"t\"", row, {true, false}),
            "SELECT count(*), md5(string_agg(ROW(\"id\", \"note\")::text, chr(10) ORDER BY "
            "\"id\")) FROM \"s\".\"t\" WHERE (\"id\") > ($1::text::integer)");
}

TEST(RangeSqlTest, TableDiffFullJoinsBothSidesOnTheKeyWithEachSidesTypes) {
  KeySql left = CompositeKey();
  KeySql right{{"\"region\"", "\"id\""}, {"text", "integer"}};
  std::string sql = TableDiffSql(left, "\"s\".\"l\"", right, "\"s\".\"r\"", "ROW(a)::text",
                                 "ROW(a)::text", {true, true});
  EXPECT_NE(sql.find("FULL JOIN"), std::string::npos) << sql;
  EXPECT_NE(sql.find("ON _zd_l.\"region\" = _zd_r.\"region\" AND _zd_l.\"id\" = _zd_r.\"id\""),
            std::string::npos)
      << sql;
  EXPECT_NE(sql.find("($3::text::text, $4::text::bigint)"), std::string::npos) << sql;
  EXPECT_NE(sql.find("($3::text::text, $4::text::integer)"), std::string::npos) << sql;
  EXPECT_NE(sql.find("WHERE _zd_l._zd_row IS DISTINCT FROM _zd_r._zd_row"), std::string::npos);
  EXPECT_NE(sql.find("count(*) OVER ()"), std::string::npos);
  EXPECT_EQ(sql.substr(sql.size() - 8), "LIMIT $5");
}

}  // namespace
}  // namespace zerodown::verify
