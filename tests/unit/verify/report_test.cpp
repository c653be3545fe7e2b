// How a verify report reads, for people and for scripts: keys and ranges named with their
// columns, counts and a verdict, samples under their range; NULL and a missing row told apart.
#include <gtest/gtest.h>

#include "zerodown/verify/verify.hpp"

namespace zerodown::verify {
namespace {

VerifyReport Clean() {
  VerifyReport report;
  report.description = "accounts.balance: up(old row) against _zd_new_balance";
  report.schema = "public";
  report.table = "accounts";
  report.key_columns = {"id"};
  report.rows_checked = 20000;
  report.ranges = 2;
  report.seconds = 0.5;
  return report;
}

VerifyReport WithOneBadRow() {
  VerifyReport report = Clean();
  report.rows_mismatched = 1;
  report.mismatched_ranges = 1;
  MismatchRange range{{std::vector<std::string>{"10000"}, std::nullopt}, 10000, 0, 1, {}};
  range.samples.push_back({{"12345"}, "345", std::nullopt});
  report.first_mismatches.push_back(range);
  return report;
}

TEST(VerifyReportTest, KeysAndRangesNameTheirColumns) {
  EXPECT_EQ(FormatKey({"id"}, {"42"}), "id 42");
  EXPECT_EQ(FormatKey({"region", "id"}, {"eu", "42"}), "(region, id) = (eu, 42)");
  EXPECT_EQ(FormatRange({"id"}, {}), "every key");
  EXPECT_EQ(FormatRange({"id"}, {std::nullopt, std::vector<std::string>{"1000"}}), "id <= 1000");
  EXPECT_EQ(FormatRange({"id"}, {std::vector<std::string>{"9000"}, std::nullopt}), "id > 9000");
  EXPECT_EQ(FormatRange({"region", "id"},
                        {std::vector<std::string>{"eu", "5"}, std::vector<std::string>{"us", "7"}}),
            "(eu, 5) < (region, id) <= (us, 7)");
}

TEST(VerifyReportTest, CleanReportSaysHowManyRowsAndHowFast) {
  VerifyReport report = Clean();
  EXPECT_TRUE(report.ok());
  EXPECT_DOUBLE_EQ(report.RowsPerSecond(), 40000);
  std::string text = Render(report);
  EXPECT_NE(text.find("20000 rows checked in 2 ranges"), std::string::npos) << text;
  EXPECT_NE(text.find("40000 rows/s"), std::string::npos) << text;
  EXPECT_NE(text.find("verdict: OK, all 20000 rows match"), std::string::npos) << text;
  EXPECT_EQ(text.find("mismatch"), std::string::npos) << text;
}

TEST(VerifyReportTest, MismatchShowsTheRangeAndSampleWithNull) {
  VerifyReport report = WithOneBadRow();
  EXPECT_FALSE(report.ok());
  std::string text = Render(report);
  EXPECT_NE(text.find("mismatches: 1 row in 1 of 2 ranges"), std::string::npos) << text;
  EXPECT_NE(text.find("id > 10000: 1 of 10000 rows differ"), std::string::npos) << text;
  EXPECT_NE(text.find("id 12345: expected 345, actual NULL"), std::string::npos) << text;
  EXPECT_NE(text.find("verdict: MISMATCH, 1 row of 20000 differ"), std::string::npos) << text;
}

TEST(VerifyReportTest, MoreMismatchingRangesThanShownSaysSo) {
  VerifyReport report = WithOneBadRow();
  report.mismatched_ranges = 7;
  EXPECT_NE(Render(report).find("first mismatching ranges (1 of 7)"), std::string::npos);
}

TEST(VerifyReportTest, TableComparisonTellsAMissingRowFromNull) {
  VerifyReport report = WithOneBadRow();
  report.tables = true;
  report.expected_label = "accounts";
  report.actual_label = "accounts_copy";
  report.right_rows = 19999;
  report.first_mismatches[0].right_rows = 9999;
  std::string text = Render(report);
  EXPECT_NE(text.find("(19999 in the copy)"), std::string::npos) << text;
  EXPECT_NE(text.find("10000 rows, 9999 in the copy, 1 differ"), std::string::npos) << text;
  EXPECT_NE(text.find("id 12345: accounts 345, accounts_copy (no row)"), std::string::npos) << text;
}

TEST(VerifyReportTest, JsonCarriesCountsRangesAndSamples) {
  nlohmann::json j = ToJson(WithOneBadRow());
  EXPECT_EQ(j["ok"], false);
  EXPECT_EQ(j["rows_checked"], 20000);
  EXPECT_EQ(j["rows_mismatched"], 1);
  ASSERT_EQ(j["first_mismatches"].size(), 1u);
  const auto& range = j["first_mismatches"][0];
  EXPECT_EQ(range["low"], nlohmann::json::array({"10000"}));
  EXPECT_TRUE(range["high"].is_null());
  EXPECT_EQ(range["samples"][0]["key"], nlohmann::json::array({"12345"}));
  EXPECT_EQ(range["samples"][0]["expected"], "345");
  EXPECT_TRUE(range["samples"][0]["actual"].is_null());
  EXPECT_FALSE(j.contains("right_rows"));
  EXPECT_EQ(ToJson(Clean())["ok"], true);
}

}  // namespace
}  // namespace zerodown::verify
